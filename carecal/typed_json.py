"""One codec between frozen dataclasses and plain JSON, for records stored as a document
(an issued invoice as it was printed): dates as ISO text, tuples and lists as arrays,
nested dataclasses as objects. Decoding checks every field against its type, so a stored
document that does not fit its record is an error, never a half-read value."""

import dataclasses
import types
import typing
from datetime import date
from typing import Any, TypeVar

Record = TypeVar("Record")


def encode(value: Any) -> Any:
    """A dataclass (or a value inside one) as JSON-ready data."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [encode(item) for item in value]
    if value is None or isinstance(value, (str, int)):
        return value
    raise TypeError(f"a {type(value).__name__} has no JSON form here")


def decode(kind: type[Record], data: Any) -> Record:
    """The `kind` dataclass that `encode` wrote as `data`."""
    return typing.cast(Record, _decode(kind, data, kind.__name__))


def _decode(kind: Any, data: Any, where: str) -> Any:
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (typing.Union, types.UnionType):
        if data is None and type(None) in args:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return _decode(inner, data, where)
    if origin in (list, tuple):
        _expect(data, list, where)
        if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
            return tuple(_decode(a, item, f"{where}[{i}]") for i, (a, item) in enumerate(zip(args, data, strict=True)))
        items = [_decode(args[0], item, f"{where}[{i}]") for i, item in enumerate(data)]
        return tuple(items) if origin is tuple else items
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        _expect(data, dict, where)
        hints = typing.get_type_hints(kind)
        names = {f.name for f in dataclasses.fields(kind)}
        if set(data) - names:
            raise ValueError(f"{where}: unknown field(s) {', '.join(sorted(set(data) - names))}")
        return kind(**{n: _decode(hints[n], data[n], f"{where}.{n}") for n in names if n in data})
    if kind is date:
        _expect(data, str, where)
        return date.fromisoformat(data)
    _expect(data, kind, where)
    return data


def _expect(data: Any, kind: type, where: str) -> None:
    if not isinstance(data, kind) or (kind is int and isinstance(data, bool)):
        raise ValueError(f"{where}: expected {kind.__name__}, found {type(data).__name__}")
