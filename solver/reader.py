"""Bytes from outside -> a JSON document, refusing what is hostile or broken, fast.

The limits (docs/format.md, "Limits on what is read") come before any meaning is looked
at: a file too large, not UTF-8 (UTF-16, binary), not JSON, nested too deeply, numbers that
are not finite or absurdly long, strings too long. Every refusal is an InstanceError with a
JSON path and a reason that never repeats a long value back.
"""

from __future__ import annotations

import json
import math
from typing import Any

from solver.instance import InstanceError

MAX_BYTES = 64 * 2**20
MAX_DEPTH = 32
MAX_STRING = 1000  # characters of any string in a document (ids, codes, times are far shorter)
MAX_NUMBER_DIGITS = 30  # digits of a number literal
SHOWN = 40  # characters of a bad value shown in a message, at most


class _NotFinite(float):
    """Stands for a number that cannot be used (NaN, infinity, overflow, absurdly long), so
    that the walk below can name where it was."""


def shown(value: object) -> str:
    """A value for a message: short, whatever it was."""
    text = repr(value)
    return text if len(text) <= SHOWN else text[: SHOWN - 1] + "…"


def _number(text: str) -> float:
    if len(text) > MAX_NUMBER_DIGITS:
        return _NotFinite("nan")
    value = float(text)
    return value if math.isfinite(value) else _NotFinite("nan")


def _integer(text: str) -> int | float:
    return _NotFinite("nan") if len(text) > MAX_NUMBER_DIGITS else int(text)


def _constant(_name: str) -> float:
    return _NotFinite("nan")


def parse_document(data: bytes, what: str = "document") -> Any:
    """Decode and parse `data` as one JSON document within the limits; InstanceError otherwise."""
    if len(data) > MAX_BYTES:
        raise InstanceError([("$", f"the {what} is {len(data) / 2**20:.0f} MiB; at most {MAX_BYTES // 2**20} MiB")])
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") or (len(data) >= 2 and (data[0] == 0 or data[1] == 0)):
        raise InstanceError([("$", f"the {what} is UTF-16 (or binary); save it as UTF-8 JSON")])
    if b"\x00" in data[:4096]:
        raise InstanceError([("$", f"the {what} is binary, not JSON text")])
    if data[:3] == b"\xef\xbb\xbf":
        data = data[3:]  # a UTF-8 byte order mark, as some editors write it
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        where = f"byte {exc.start}"
        raise InstanceError([("$", f"the {what} is not UTF-8 text ({where}); save it as UTF-8 JSON")]) from None
    if "\x00" in text:
        raise InstanceError([("$", f"the {what} is binary, not JSON text")])
    try:
        doc = json.loads(text, parse_float=_number, parse_int=_integer, parse_constant=_constant)
    except json.JSONDecodeError as exc:
        raise InstanceError(
            [("$", f"the {what} is not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}")]
        ) from None
    except RecursionError:
        raise InstanceError([("$", f"the {what} is nested more than {MAX_DEPTH} levels deep")]) from None
    except ValueError as exc:  # e.g. a number Python refuses to convert
        raise InstanceError([("$", f"the {what} is not usable JSON: {shown(str(exc))}")]) from None
    errors = limit_errors(doc)
    if errors:
        raise InstanceError(errors)
    return doc


def limit_errors(doc: Any, max_errors: int = 20) -> list[tuple[str, str]]:
    """Where `doc` breaks the limits on depth, numbers and strings (at most `max_errors`)."""
    errors: list[tuple[str, str]] = []
    stack: list[tuple[Any, str, int]] = [(doc, "$", 0)]
    while stack and len(errors) < max_errors:
        node, path, depth = stack.pop()
        if depth > MAX_DEPTH:
            errors.append((path, f"nested more than {MAX_DEPTH} levels deep"))
            continue
        if isinstance(node, _NotFinite):
            errors.append((path, "not a finite number of sensible length (NaN, infinity or too many digits)"))
        elif isinstance(node, str):
            if len(node) > MAX_STRING:
                errors.append((path, f"a string of {len(node)} characters; at most {MAX_STRING}"))
        elif isinstance(node, dict):
            for key, value in node.items():
                if len(key) > MAX_STRING:
                    errors.append((path, f"a key of {len(key)} characters; at most {MAX_STRING}"))
                    continue
                stack.append((value, f"{path}.{key}" if key.isidentifier() else f"{path}[{shown(key)}]", depth + 1))
        elif isinstance(node, list):
            stack.extend((value, f"{path}[{i}]", depth + 1) for i, value in enumerate(node))
    return sorted(errors)
