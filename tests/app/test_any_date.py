"""carecal on any date: the time-sensitive tests, the demo and every command of the README,
run under libfaketime at awkward moments (a Sunday when summer time starts, 29 February,
New Year's Eve at 23:30), in the organisation's time zone.

libfaketime gives the whole process (and everything it starts) another wall clock, so a
leftover `datetime.now()` or `date.today()` anywhere would show here; the demo then builds
its weeks around that day, and the README's commands, with the weeks the demo printed,
must all work on its database. Locally a missing `faketime` skips these with a notice;
under CI (which installs it) that is a failure.
"""

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UNDER_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

AWKWARD = [
    pytest.param("2027-03-28 10:00:00", id="summer-time-starts"),
    pytest.param("2028-02-29 12:00:00", id="29-february"),
    pytest.param("2026-12-31 23:30:00", id="new-years-eve"),
]
# The tests whose subject is time: weeks, outcomes, feeds' windows and stamps, "today".
TIME_SENSITIVE = [
    "tests/app/test_lifecycle.py",
    "tests/app/test_visit_record.py",
    "tests/app/test_feed_events.py",
    "tests/app/test_feed_server.py",
    "tests/app/test_masterdata_cli.py",
]


def _faketime() -> str:
    found = shutil.which("faketime")
    if found is None:
        if UNDER_CI:
            pytest.fail("faketime is required under CI to run carecal at other dates (apt-get install faketime)")
        pytest.skip("faketime is not installed (apt-get install faketime): carecal is not run at other dates")
    return found


def _run(moment: str, args: list[str], cwd: Path, timeout: int) -> subprocess.CompletedProcess:
    """`args` under libfaketime: the wall clock starts at `moment` (Europe/Berlin) and runs on.
    PYTHONPATH makes the subprocess use this checkout's carecal."""
    env = {**os.environ, "TZ": "Europe/Berlin", "PYTHONPATH": str(ROOT), "CARECAL_ACTOR": "anna"}
    env.pop("CARECAL_DB", None)
    return subprocess.run(
        [_faketime(), "-f", f"@{moment}", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def readme_commands() -> list[list[str]]:
    """Every `.venv/bin/carecal ...` line of the README's shell examples, as arguments."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", text, flags=re.DOTALL):
        for line in block.splitlines():
            if line.startswith(".venv/bin/carecal "):
                commands.append(shlex.split(line, comments=True)[1:])
    return commands


def test_the_readme_has_commands_to_try():
    commands = readme_commands()
    assert len(commands) >= 5
    assert all(re.fullmatch(r"[A-Za-z0-9_./:@$ -]+", " ".join(c)) for c in commands)  # nothing exotic to expand
    assert not [c for c in commands if re.search(r"\d{4}-W\d{2}(?!-)", " ".join(c))], "no hard-coded week"


@pytest.mark.slow
@pytest.mark.parametrize("moment", AWKWARD)
def test_the_time_sensitive_tests_pass_at(moment, tmp_path):
    done = _run(
        moment,
        [sys.executable, "-m", "pytest", "-q", "-p", "no:xdist", "-p", "no:cacheprovider", "-m", "not postgres"]
        + ["--rootdir", str(ROOT), *(str(ROOT / f) for f in TIME_SENSITIVE)],
        cwd=ROOT,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert " passed" in done.stdout


# One process under libfaketime: the demo, then every README command on its database (each
# a fresh invocation of the `carecal` command, as from a shell), with the weeks it printed.
# The PDFs are left out: they take most of the demo's time and are tested on their own.
DEMO_THEN_README = """
import json, re, sys
from typer.testing import CliRunner
from carecal.cli.main import app

runner = CliRunner()
demo = runner.invoke(app, ["demo", "--time-limit", "2", "--no-documents"])
weeks = dict(re.findall(r"\\b(LAST|THIS|NEXT|MONTH)=(\\S+)", demo.stdout))
result = {"args": ["demo"], "code": demo.exit_code, "out": demo.stdout[-3000:], "err": demo.stderr}
print(json.dumps({**result, "weeks": weeks}))
for command in json.loads(sys.argv[1]):
    args = [re.sub(r"\\$(LAST|THIS|NEXT|MONTH)", lambda m: weeks[m[1]], part) for part in command]
    done = runner.invoke(app, args)
    print(json.dumps({"args": args, "code": done.exit_code, "out": done.stdout[-2000:], "err": done.stderr}))
"""


@pytest.mark.slow
@pytest.mark.parametrize("moment", AWKWARD)
def test_the_demo_builds_around_that_day_and_every_readme_command_works_on_it(moment, tmp_path):
    done = _run(
        moment, [sys.executable, "-c", DEMO_THEN_README, json.dumps(readme_commands())], cwd=tmp_path, timeout=1200
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    results = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    demo, commands = results[0], results[1:]
    assert demo["code"] == 0, demo["out"] + demo["err"]
    year, week, _ = date.fromisoformat(moment[:10]).isocalendar()
    assert demo["weeks"]["THIS"] == f"{year}-W{week:02d}", demo["out"]
    assert (tmp_path / "carecal.db").exists()
    assert len(commands) == len(readme_commands())
    for result in commands:
        assert result["code"] == 0, f"carecal {' '.join(result['args'])} at {moment}:\n{result['out']}{result['err']}"
        assert "Traceback" not in result["err"]
