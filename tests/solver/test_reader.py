"""Hostile or broken input to `python -m solver solve`: a clear message and exit code 2,
fast, never a traceback, never a huge value echoed back (docs/format.md, "Limits")."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from solver.cli import app
from tests.solver.tiny_instances import client, instance, request, volunteer

runner = CliRunner()


def solve_file(tmp_path, data: bytes):
    path = tmp_path / "week.json"
    path.write_bytes(data)
    return runner.invoke(app, ["solve", str(path), "-q", "--time-limit", "1", "--workers", "1"])


def refused(tmp_path, data: bytes, *expected: str) -> str:
    result = solve_file(tmp_path, data)
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    for text in expected:
        assert text in result.output, result.output
    return result.output


def week(**changes) -> dict:
    doc = instance([volunteer()], [client()])
    for path, value in changes.items():
        target = doc
        *parents, last = path.split("__")
        for key in parents:
            target = target[int(key)] if key.isdigit() else target[key]
        target[last] = value
    return doc


def as_bytes(doc: object) -> bytes:
    return json.dumps(doc).encode()


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"{", "not JSON"),
        (b"\xff\xfe{\x00}\x00", "UTF-16"),
        ('{"a": 1}'.encode("utf-16-le"), "UTF-16"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "binary"),
        (b'{"week": "2026-W48\xff"}', "not UTF-8"),
        (b"[" * 5000 + b"]" * 5000, "nested more than"),
        (b"[" * 40 + b"]" * 40, "nested more than 32"),
        (b'{"lat": NaN}', "$.lat: not a finite number"),
        (b'{"x": [1, Infinity]}', "$.x[1]: not a finite number"),
        (b'{"x": 1e400}', "$.x: not a finite number"),
        (b'{"x": ' + b"9" * 5000 + b"}", "$.x: not a finite number"),
    ],
)
def test_unreadable_documents_are_refused_with_what_is_wrong(tmp_path, data, expected):
    refused(tmp_path, data, expected)


@pytest.mark.parametrize(
    ("changes", "path"),
    [
        ({"volunteers__0__max_minutes_per_week": 2**63}, "$.volunteers[0].max_minutes_per_week"),
        ({"clients__0__requests__0__priority": 10**20}, "$.clients[0].requests[0].priority"),
        ({"clients__0__requests__0__duration_min": 10**6}, "$.clients[0].requests[0].duration_min"),
        ({"volunteers__0__max_km": 1e20}, "$.volunteers[0].max_km"),
        ({"week": "9999-W52"}, "$.week"),
        ({"week": "0001-W01"}, "$.week"),
        ({"volunteers__0__home": {"lat": 91, "lon": 0}}, "$.volunteers[0].home.lat"),
        ({"clients__0__max_visits_per_day": -1}, "$.clients[0].max_visits_per_day"),
    ],
)
def test_numbers_out_of_range_are_refused_at_their_path(tmp_path, changes, path):
    refused(tmp_path, as_bytes(week(**changes)), path)


def test_a_huge_string_is_refused_without_echoing_it(tmp_path):
    output = refused(tmp_path, as_bytes(week(week="2026-W48" + "x" * 10_000_000)), "$.week", "characters")
    assert len(output) < 2000


def test_absences_at_the_ends_of_time_change_nothing(tmp_path):
    far = [{"date": "9999-12-31"}, {"date": "0001-01-01", "from": "00:00", "to": "01:00"}]
    result = solve_file(tmp_path, as_bytes(week(volunteers__0__absences=far)))
    assert result.exit_code == 0, result.output


def test_the_real_command_refuses_binary_on_stdin_without_a_traceback():
    done = subprocess.run(
        [sys.executable, "-m", "solver", "solve", "-", "-q"],
        input=b"\x00\x01\x02binary\xff",
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert b"binary" in done.stderr and b"Traceback" not in done.stderr


# --- fuzzing: whatever arrives, exit 2 with a message (or a roster), never a traceback ----------

FUZZ = settings(
    max_examples=40, deadline=2000, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)


def never_a_traceback(tmp_path, data: bytes) -> None:
    result = solve_file(tmp_path, data)
    assert result.exit_code in (0, 2), (result.exit_code, result.output, repr(result.exception))
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    if result.exit_code == 2:
        assert result.output.strip()


@FUZZ
@given(data=st.binary(max_size=2000))
def test_fuzz_arbitrary_bytes(tmp_path, data):
    never_a_traceback(tmp_path, data)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=30,
)


@FUZZ
@given(doc=json_values)
def test_fuzz_arbitrary_json(tmp_path, doc):
    never_a_traceback(tmp_path, json.dumps(doc).encode())


def mutated_week(draw_key: str, value: object) -> dict:
    """A valid week with one field replaced by an arbitrary value."""
    doc = instance(
        [volunteer(absences=[{"date": "2026-11-24", "from": "09:00", "to": "10:00"}])],
        [client(requests=[request("c1-1")])],
        pins=[{"request": "c1-1", "volunteer": "v1"}],
    )
    places = {
        "week": (doc, "week"),
        "timezone": (doc, "timezone"),
        "slot_minutes": (doc, "slot_minutes"),
        "travel": (doc, "travel"),
        "home": (doc["volunteers"][0], "home"),
        "availability": (doc["volunteers"][0], "availability"),
        "absences": (doc["volunteers"][0], "absences"),
        "max_minutes_per_week": (doc["volunteers"][0], "max_minutes_per_week"),
        "max_visits_per_day": (doc["clients"][0], "max_visits_per_day"),
        "languages": (doc["clients"][0], "languages"),
        "windows": (doc["clients"][0]["requests"][0], "windows"),
        "duration_min": (doc["clients"][0]["requests"][0], "duration_min"),
        "priority": (doc["clients"][0]["requests"][0], "priority"),
        "pin": (doc["pins"][0], "start"),
    }
    target, key = places[draw_key]
    target[key] = value
    return doc


@FUZZ
@given(
    key=st.sampled_from(
        [
            "week",
            "timezone",
            "slot_minutes",
            "travel",
            "home",
            "availability",
            "absences",
            "max_minutes_per_week",
            "max_visits_per_day",
            "languages",
            "windows",
            "duration_min",
            "priority",
            "pin",
        ]
    ),
    value=json_values,
)
def test_fuzz_one_field_of_a_valid_week(tmp_path, key, value):
    never_a_traceback(tmp_path, json.dumps(mutated_week(key, value)).encode())
