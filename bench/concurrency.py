"""Concurrency benchmark: coordinators' commands at once, while the feed server is under load.

    .venv/bin/python bench/concurrency.py [--writers 8] [--rounds 10] [--readers 16] [--db URL]

Builds the demo database in a temporary directory (`carecal demo`; or uses --db, which must
already hold the demo), gives every volunteer a feed link and starts the feed server (the
app of `carecal feed serve`, under uvicorn, on 127.0.0.1, without the per-link rate limit
so that every request renders). `--readers` threads then fetch those feeds without pause,
and meanwhile:

- `--rounds` times, `--writers` `carecal override absence` commands start at the same moment,
  each its own process, as coordinators' commands are;
- then `carecal feed rotate` and two `carecal billing run` for the current month at once.

Reports per kind of command how many committed, how many failed and with what (every
failure must be one line, no traceback), and two latencies (p50, p95, max): the whole
command as a coordinator waits for it, and the command's own work after Python has
started and imported carecal (reading, waiting for the write lock, writing, committing);
and the feed server's answers and latency meanwhile. Exits 1 if a write was lost,
half-written or ended in a traceback. Not part of the test suite: figures in
docs/concurrency.md.
"""

import argparse
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import func, select

from carecal import clock, db
from carecal.feeds import tokens
from carecal.models import Absence, AuditEvent, Override, Volunteer

CARECAL = [sys.executable, "-m", "carecal"]
# `carecal ARGS` as its console script runs it, saying on stderr how long the command itself
# took once Python had started and imported carecal.
TIMED = [
    sys.executable,
    "-c",
    "import sys, time\n"
    "from carecal.cli.main import app\n"
    "started = time.perf_counter()\n"
    "try:\n"
    "    app(sys.argv[1:], prog_name='carecal')\n"
    "except SystemExit as exit:\n"
    "    code = exit.code\n"
    "print(f'bench-seconds {time.perf_counter() - started:.3f}', file=sys.stderr)\n"
    "sys.exit(code)\n",
]
OWN = re.compile(r"^bench-seconds (\S+)\n?", re.MULTILINE)


def run_carecal(url: str, *args: str) -> tuple[float, float, subprocess.CompletedProcess]:
    """(whole seconds, the command's own seconds, result); stderr without the timing line."""
    started = time.perf_counter()
    done = subprocess.run([*TIMED, "--db", url, *args], capture_output=True, text=True, timeout=300)
    whole = time.perf_counter() - started
    found = OWN.search(done.stderr)
    done.stderr = OWN.sub("", done.stderr)
    return whole, float(found[1]) if found else whole, done


def at_once(url: str, commands: list[list[str]]) -> list[tuple[float, float, subprocess.CompletedProcess]]:
    """Start every command at the same moment (one process each); their timings and results."""
    results: list = [None] * len(commands)
    start = threading.Barrier(len(commands))

    def one(n: int) -> None:
        start.wait()
        results[n] = run_carecal(url, *commands[n])

    threads = [threading.Thread(target=one, args=(n,)) for n in range(len(commands))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(url: str, port: int) -> subprocess.Popen:
    script = (
        "import uvicorn\n"
        "from carecal.feeds.app import RateLimiter, create_app\n"
        f"app = create_app({url!r}, rate_limiter=RateLimiter(burst=10**9))\n"
        f"uvicorn.run(app, host='127.0.0.1', port={port}, log_level='warning', access_log=False)\n"
    )
    server = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/feeds/none.ics", timeout=2)
            return server
        except httpx.HTTPError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("the feed server did not start")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def summary(name: str, results: list[tuple[float, float, subprocess.CompletedProcess]]) -> tuple[str, list[str]]:
    """A table row and the problems (tracebacks, multi-line errors)."""
    whole = [t for t, _, _ in results]
    own = [t for _, t, _ in results]
    failed = [r for _, _, r in results if r.returncode != 0]
    problems = []
    for _, _, r in results:
        if "Traceback" in r.stderr or (r.returncode != 0 and len(r.stderr.strip().splitlines()) != 1):
            problems.append(f"{name}: exit {r.returncode}: {r.stderr.strip()[:500]}")
    messages = sorted({r.stderr.strip() for r in failed})
    row = (
        f"| {name} | {len(results)} | {len(results) - len(failed)} | {len(failed)} | "
        f"{statistics.median(whole):.2f} / {percentile(whole, 0.95):.2f} / {max(whole):.2f} | "
        f"{statistics.median(own):.2f} / {percentile(own, 0.95):.2f} / {max(own):.2f} | "
        f"{'; '.join(f'`{m}`' for m in messages) or '—'} |"
    )
    return row, problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--readers", type=int, default=16)
    parser.add_argument("--db", help="a database that already holds the demo (default: a new one)")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="carecal-concurrency-"))
    url = args.db or f"sqlite:///{workdir / 'carecal.db'}"
    if not args.db:
        print(f"building the demo database in {workdir} ...", flush=True)
        demo = subprocess.run(
            [*CARECAL, "--db", url, "demo", "--out", str(workdir / "exports"), "--time-limit", "2", "--no-documents"],
            capture_output=True,
            text=True,
        )
        if demo.returncode != 0:
            raise SystemExit(demo.stderr)
    with db.session_scope(url, write=True) as s:
        volunteers = s.scalars(
            select(Volunteer).where(Volunteer.active.is_(True)).order_by(Volunteer.external_id)
        ).all()
        people = [v.external_id for v in volunteers]
        # every volunteer but the last gets a link the readers fetch; the last one's is rotated
        links = [tokens.issue(s, v, "bench") for v in volunteers[:-1]]
        before = {m: s.scalar(select(func.count()).select_from(m)) for m in (Override, Absence)}
    startup = min(run_carecal(url, "--version")[0] for _ in range(3))  # Python, imports, nothing else
    load_before = os.getloadavg()[0]
    far = clock.today("Europe/Berlin") + timedelta(days=400)  # absences nowhere near a planned week

    port = free_port()
    server = start_server(url, port)
    stop = threading.Event()
    answers: dict[int, int] = {}
    latencies: list[float] = []
    lock = threading.Lock()

    def calendar_app(n: int) -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            i = n
            while not stop.is_set():
                started = time.perf_counter()
                try:
                    status = client.get(f"/feeds/{links[i % len(links)]}.ics").status_code
                except httpx.HTTPError:
                    status = 0
                with lock:
                    answers[status] = answers.get(status, 0) + 1
                    latencies.append(time.perf_counter() - started)
                i += args.readers

    readers = [threading.Thread(target=calendar_app, args=(n,)) for n in range(args.readers)]
    load_started = time.perf_counter()
    for reader in readers:
        reader.start()
    time.sleep(2)  # the server is busy before the first write
    try:
        overrides = []
        for round_ in range(args.rounds):
            day = (far + timedelta(days=round_)).isoformat()
            overrides += at_once(
                url,
                [
                    ["override", "absence", people[n], "--from", day, "--to", day]
                    + ["--reason", "bench", "--actor", f"coordinator{n}"]
                    for n in range(args.writers)
                ],
            )
        rotate = at_once(url, [["feed", "rotate", people[-1], "--actor", "bench"]])
        month = clock.today("Europe/Berlin").strftime("%Y-%m")
        billing = at_once(url, [["billing", "run", "--month", month, "--actor", f"treasurer{n}"] for n in range(2)])
    finally:
        stop.set()
        for reader in readers:
            reader.join()
        load_seconds = time.perf_counter() - load_started
        server.terminate()
        server.wait(timeout=30)

    rows, problems = [], []
    for name, results in (
        (f"`override absence` ({args.writers} at once × {args.rounds})", overrides),
        ("`feed rotate` (during the load)", rotate),
        ("`billing run` (2 at once)", billing),
    ):
        row, trouble = summary(name, results)
        rows.append(row)
        problems += trouble
    with db.session_scope(url) as s:
        after = {m: s.scalar(select(func.count()).select_from(m)) for m in (Override, Absence)}
        audited = s.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "roster.override.absence")
        )
    committed = sum(1 for _, _, r in overrides if r.returncode == 0)
    for model in (Override, Absence):
        if after[model] - before[model] != committed:
            problems.append(f"{model.__tablename__}: {after[model] - before[model]} rows for {committed} commits")
    if audited < committed:
        problems.append(f"{audited} audit events for {committed} committed absences")

    load = os.getloadavg()
    total = sum(answers.values())
    print(
        f"\nmachine: {platform.platform()}, {os.cpu_count()} cores; load average {load_before:.2f} before the run, "
        f"{load[0]:.2f} (1 min) and {load[1]:.2f} (5 min) at its end"
    )
    print(f"python start-up alone (`carecal --version`): {startup:.2f} s\n")
    print(
        "| commands | run | committed | failed | whole command, s: p50 / p95 / max | its own work, s | failures said |"
    )
    print("|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    print(
        f"\nfeed server meanwhile: {total} requests in {load_seconds:.0f} s ({total / load_seconds:.0f} req/s) "
        f"from {args.readers} clients over {len(links)} feeds; answers {dict(sorted(answers.items()))}; "
        f"latency p50 {percentile(latencies, 0.5) * 1000:.0f} ms, p95 {percentile(latencies, 0.95) * 1000:.0f} ms"
    )
    for problem in problems:
        print(f"PROBLEM: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
