"""Load benchmark of `carecal feed serve`: many calendar apps polling at once.

    .venv/bin/python bench/feeds_load.py [--subscribers 200] [--rounds 5] [--db URL]

Builds a throw-away SQLite database (or uses --db, which must be empty) with an
association of realistic size: one published roster per week over the whole feed window
(13 weeks), every other week replanned once, 200 volunteers with a feed link each. Starts
the real server (`carecal feed serve`, uvicorn) on 127.0.0.1 only, then lets every
subscriber fetch its feed `--rounds` times at once: a first fetch, then conditional
re-fetches (If-None-Match, some If-Modified-Since, some plain), as calendar apps do.
Reports throughput, latency percentiles and errors; stops by itself (bounded requests,
--timeout per request, --deadline overall). Not part of the test suite.
"""

import argparse
import asyncio
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path

import httpx

from carecal import db
from carecal.feeds import tokens
from carecal.feeds.calendars import feed_window
from carecal.models import CareRequest, Client, Organisation, RosterVersion, RosterWeek, Visit, Volunteer
from carecal.weeks import DAY_CODES, local, to_local


def seed(url: str, subscribers: int, rng: random.Random) -> list[str]:
    """The association, its published rosters over the feed window, and one token per volunteer."""
    db.upgrade(url)
    now = datetime.now(UTC)
    today = to_local(now).date()
    with db.session_scope(url) as s:
        if s.query(Volunteer).count():
            raise SystemExit("the benchmark needs an empty database")
        s.add(
            Organisation(
                name="Brücke Chemnitz e. V.",
                ik="461234567",
                street="Straße der Nationen 12",
                postcode="09111",
                city="Chemnitz",
                phone="0371 5550100",
            )
        )
        volunteers = [
            Volunteer(
                external_id=f"v{n:03d}",
                first_name=f"Vol{n}",
                last_name=f"Unteer{n}",
                lat=50.83,
                lon=12.92,
                languages=["de"],
                gender="f",
                travel_mode="transit",
                max_km=8,
                max_minutes_per_week=600,
                ui_language=("de", "ru", "uk", "en")[n % 4],
            )
            for n in range(subscribers)
        ]
        requests = []
        for n in range(subscribers * 3 // 2):
            client = Client(
                external_id=f"c{n:03d}",
                first_name=f"Client{n}",
                last_name=f"Name{n}",
                date_of_birth=date(1940, 1, 1),
                street=f"Hauptstr. {n}",
                postcode="09111",
                district="Zentrum",
                lat=50.83,
                lon=12.92,
                languages=["de"],
            )
            requests.append(
                CareRequest(
                    external_id=f"c{n:03d}-1",
                    client=client,
                    duration_min=90,
                    visits_per_week=2,
                    windows=[],
                    activity="Spaziergang",
                    valid_from=date(2024, 1, 1),
                )
            )
        s.add_all(volunteers + requests)
        s.flush()
        for i, week in enumerate(feed_window(today)):
            roster_week = RosterWeek(week=str(week))
            s.add(roster_week)
            # published the Friday before the week, and the replan an hour later; never in the future
            published = min(local(week.monday - timedelta(days=3), clock(10)), now - timedelta(hours=2))
            for number in (1, 2) if i % 2 else (1,):
                version = RosterVersion(
                    roster_week=roster_week,
                    number=number,
                    created_by="bench",
                    status="published" if number == (2 if i % 2 else 1) else "superseded",
                    published_by="bench",
                    published_at=published + timedelta(hours=number - 1),
                )
                s.add(version)
                for request in requests:
                    for k in (1, 2):
                        if number == 2 and rng.random() < 0.1:
                            continue  # dropped in the replan: cancelled in feeds
                        day = week.day(DAY_CODES[rng.randrange(5)])
                        starts = local(day, clock(9 + rng.randrange(8)))
                        s.add(
                            Visit(
                                version=version,
                                request_key=f"{request.external_id}#{k}",
                                care_request=request,
                                client=request.client,
                                volunteer=volunteers[rng.randrange(len(volunteers))],
                                starts_at=starts,
                                ends_at=starts + timedelta(minutes=90),
                            )
                        )
        s.flush()
        return [tokens.issue(s, v, "bench") for v in volunteers]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def wait_until_up(base: str, deadline: float) -> None:
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            try:
                await client.get(f"{base}/feeds/nothing.ics")
                return
            except httpx.TransportError:
                await asyncio.sleep(0.2)
    raise SystemExit("the feed server did not start")


async def subscriber(url: str, rounds: int, timeout: float, rng: random.Random, results: list) -> None:
    """One calendar app: its own HTTP client and connection, polling one feed."""
    async with httpx.AsyncClient(timeout=timeout) as client:
        await poll(client, url, rounds, rng, results)


async def poll(client: httpx.AsyncClient, url: str, rounds: int, rng: random.Random, results: list) -> None:
    etag = last_modified = None
    for n in range(rounds):
        headers = {}
        if n and etag:  # re-fetch: mostly with the ETag, some with the date, some plain
            style = rng.random()
            if style < 0.7:
                headers["If-None-Match"] = etag
            elif style < 0.9:
                headers["If-Modified-Since"] = last_modified
        started = time.perf_counter()
        try:
            response = await client.get(url, headers=headers)
            status = response.status_code
            if status == 200:
                etag, last_modified = response.headers["etag"], response.headers["last-modified"]
                if len(response.content) != int(response.headers["content-length"]):
                    status = "short body"
        except httpx.HTTPError as error:
            status = type(error).__name__
        results.append((n == 0, status, time.perf_counter() - started))
        await asyncio.sleep(rng.random() * 0.05)  # apps do not poll in lockstep


async def run_load(
    base: str, feed_tokens: list[str], rounds: int, timeout: float, deadline: float, rng: random.Random
) -> tuple[list, float]:
    results: list = []
    started = time.perf_counter()
    jobs = [
        subscriber(f"{base}/feeds/{token}.ics", rounds, timeout, random.Random(rng.random()), results)
        for token in feed_tokens
    ]
    await asyncio.wait_for(asyncio.gather(*jobs), timeout=deadline)
    return results, time.perf_counter() - started


def percentile(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1] if len(values) > 1 else values[0]


def report(results: list, elapsed: float, args) -> int:
    latencies = [seconds * 1000 for _, _, seconds in results]
    counts: dict = {}
    for _, status, _ in results:
        counts[status] = counts.get(status, 0) + 1
    errors = sum(n for status, n in counts.items() if status not in (200, 304))
    first = [s * 1000 for is_first, status, s in results if is_first]
    again = [s * 1000 for is_first, status, s in results if not is_first]
    print(
        f"machine      {platform.machine()}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.1f} (shared machine)"
    )
    print(f"load         {args.subscribers} concurrent subscribers x {args.rounds} fetches = {len(results)} requests")
    print(f"elapsed      {elapsed:.2f} s")
    print(f"throughput   {len(results) / elapsed:.1f} requests/s")
    print(
        f"latency      p50 {percentile(latencies, 50):.0f} ms, p95 {percentile(latencies, 95):.0f} ms, "
        f"p99 {percentile(latencies, 99):.0f} ms, max {max(latencies):.0f} ms"
    )
    print(f"  first      p95 {percentile(first, 95):.0f} ms   re-fetch p95 {percentile(again, 95):.0f} ms")
    print(f"statuses     {', '.join(f'{k}: {v}' for k, v in sorted(counts.items(), key=str))}")
    print(f"errors       {errors}")
    return 1 if errors else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5, help="fetches per subscriber (first + re-fetches)")
    parser.add_argument("--db", help="an EMPTY database URL (default: a temporary SQLite file)")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per request")
    parser.add_argument("--deadline", type=float, default=300.0, help="seconds for the whole load")
    parser.add_argument("--seed", type=int, default=48)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    with tempfile.TemporaryDirectory(prefix="carecal-bench-") as tmp:
        url = args.db or f"sqlite:///{Path(tmp) / 'bench.db'}"
        started = time.perf_counter()
        feed_tokens = seed(url, args.subscribers, rng)
        print(f"seeded       {db.safe_url(url)} in {time.perf_counter() - started:.1f} s")
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [sys.executable, "-m", "carecal", "--db", url, "feed", "serve", "--host", "127.0.0.1", "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            asyncio.run(wait_until_up(base, time.monotonic() + 30))
            results, elapsed = asyncio.run(run_load(base, feed_tokens, args.rounds, args.timeout, args.deadline, rng))
        finally:
            server.terminate()
            server.wait(timeout=10)
    return report(results, elapsed, args)


if __name__ == "__main__":
    sys.exit(main())
