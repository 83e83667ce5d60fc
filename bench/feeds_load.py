"""Load benchmark of `carecal feed serve` in production mode: many calendar apps polling.

    .venv/bin/python bench/feeds_load.py [--feeds 1000] [--connections 200] [--duration 20]
                                         [--workers 2] [--db URL] [--static nginx|python|none]

1. Seeds a throw-away SQLite database (or --db, which must be empty) with an association
   of city size: `--feeds` volunteers with a feed link each, published rosters over the
   whole window of 13 weeks (every other week replanned once), about 30 kB per feed.
2. Starts the real server (`carecal feed serve --workers N --token-rate 0`) on a free
   loopback port, its log in a file.
3. First fetches: every feed once, `--connections` at a time (an asyncio client): each
   is rendered once per worker that meets it.
4. Measures with wrk (its own C process, one thread, `--connections` connections, random
   feed per request; bench/feeds_wrk.lua): 304s only, full answers only, then the mix
   calendar apps send (70 % If-None-Match, 20 % If-Modified-Since, 10 % plain). In the
   middle of the mix a coordinator rotates a link and records a visit (one write
   transaction each), timed; then the mix again while the coordinator publishes next
   week's replan (every feed must be read again), timed.
5. For comparison, the same bodies as static files from nginx (or `python -m http.server`),
   same wrk, same connections.

Not a test: it reads the real clock, stops by itself (wrk runs `--duration` seconds per
phase) and only ever talks to 127.0.0.1.
"""

import argparse
import asyncio
import os
import platform
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from datetime import time as clock_time
from pathlib import Path

import httpx
from sqlalchemy import insert, select

from carecal import clock, db
from carecal.billing.records import record_visit
from carecal.feeds import tokens
from carecal.feeds.calendars import feed_window
from carecal.models import Activity, CareRequest, Client, Organisation, RosterVersion, RosterWeek, Visit, Volunteer
from carecal.roster.versions import publish
from carecal.weeks import DAY_CODES, IsoWeek, local, to_local

WRK_SCRIPT = Path(__file__).with_name("feeds_wrk.lua")
VISITS_PER_FEED_AND_WEEK = 2  # with 13 weeks and the cancelled replans: about 30 kB a feed


def seed(url: str, feeds: int, rng: random.Random) -> list[str]:
    """The association, its published rosters over the feed window, and one token per volunteer."""
    db.upgrade(url)
    now = clock.now()
    today = to_local(now).date()
    with db.session_scope(url) as s:
        if s.scalars(select(Volunteer).limit(1)).first() is not None:
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
                external_id=f"v{n:04d}",
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
            for n in range(feeds)
        ]
        requests = []
        for n in range(int(feeds * VISITS_PER_FEED_AND_WEEK / 2)):
            client = Client(
                external_id=f"c{n:04d}",
                first_name=f"Client{n}",
                last_name=f"Name{n}",
                date_of_birth=date(1940, 1, 1),
                street=f"Hauptstraße {n}",
                postcode="09111",
                district="Zentrum",
                lat=50.83,
                lon=12.92,
                languages=["de"],
            )
            requests.append(
                CareRequest(
                    external_id=f"c{n:04d}-1",
                    client=client,
                    duration_min=90,
                    visits_per_week=2,
                    windows=[],
                    activity_key="walk",
                    valid_from=date(2024, 1, 1),
                )
            )
        s.add(Activity(key="walk", labels={"de": "Spaziergang", "ru": "Прогулка", "uk": "Прогулянка", "en": "Walk"}))
        s.add_all(volunteers + requests)
        s.flush()
        for i, week in enumerate(feed_window(today)):
            roster_week = RosterWeek(week=str(week))
            s.add(roster_week)
            # published the Friday before the week, the replan an hour later; never in the future
            published = min(local(week.monday - timedelta(days=3), clock_time(10)), now - timedelta(hours=2))
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
                s.flush()
                rows = []
                for request in requests:
                    for k in (1, 2):
                        if number == 2 and rng.random() < 0.1:
                            continue  # dropped in the replan: cancelled in feeds
                        starts = local(week.day(DAY_CODES[rng.randrange(5)]), clock_time(9 + rng.randrange(8)))
                        rows.append(
                            {
                                "version_id": version.id,
                                "request_key": f"{request.external_id}#{k}",
                                "care_request_id": request.id,
                                "client_id": request.client.id,
                                "volunteer_id": volunteers[rng.randrange(len(volunteers))].id,
                                "starts_at": starts,
                                "ends_at": starts + timedelta(minutes=90),
                                "status": "planned",
                                "pinned": False,
                            }
                        )
                s.execute(insert(Visit), rows)
        return [tokens.issue(s, v, "bench") for v in volunteers]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(base: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{base}/", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise SystemExit(f"no server answered at {base}")


async def first_fetches(
    base: str, feed_tokens: list[str], connections: int, *, new_connections: bool = False
) -> tuple[list, float]:
    """Every feed once, `connections` at a time: (path, etag, last-modified, body, seconds) each."""
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=0 if new_connections else None)
    results = []
    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:
        gate = asyncio.Semaphore(connections)

        async def fetch(token: str) -> None:
            async with gate:
                t = time.perf_counter()
                response = await client.get(f"/feeds/{token}.ics")
                if response.status_code != 200:
                    raise SystemExit(f"first fetch: {response.status_code}")
                results.append(
                    (
                        f"/feeds/{token}.ics",
                        response.headers["etag"],
                        response.headers["last-modified"],
                        response.content,
                        time.perf_counter() - t,
                    )
                )

        await asyncio.gather(*(fetch(token) for token in feed_tokens))
    return results, time.perf_counter() - started


def wrk(base: str, mode: str, feed_file: Path, connections: int, duration: int) -> dict:
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--timeout", "10s", "-s", str(WRK_SCRIPT), base]
        + ["--", mode, str(feed_file)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    result = {"mode": mode, "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}
    result.update({k: float(v) for k, v in re.findall(r"(p50|p95|p99|max)=([\d.]+)", out)})
    result["statuses"] = dict(re.findall(r"(\d+)=(\d+)", " ".join(re.findall(r"STATUS (.*)", out))))
    errors = re.search(r"Socket errors: (.*)", out)
    result["socket errors"] = errors.group(1) if errors else "none"
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    result["non-2xx/3xx"] = int(non2xx.group(1)) if non2xx else 0
    return result


def upcoming_visit(url: str) -> int:
    """A published visit that has not happened yet (for the office to record a cancellation)."""
    with db.session_scope(url) as s:
        return s.scalars(
            select(Visit.id)
            .join(RosterVersion)
            .where(RosterVersion.status == "published", Visit.starts_at > clock.now())
            .order_by(Visit.starts_at)
            .limit(1)
        ).one()


def coordinator_writes(url: str, visit_id: int, after: float, timings: dict) -> None:
    """During the load, as `carecal feed rotate` and `carecal visit record` do: rotate a
    link, record a cancellation; each one write transaction, timed from open to commit."""
    time.sleep(after)
    started = time.perf_counter()
    with db.session_scope(url, write=True) as s:
        tokens.issue(s, s.scalars(select(Volunteer).where(Volunteer.external_id == "v0000")).one(), "coordinator")
    timings["feed rotate"] = time.perf_counter() - started
    started = time.perf_counter()
    with db.session_scope(url, write=True) as s:
        record_visit(s, visit_id, "coordinator", status="cancelled-by-client", reason="bench")
    timings["visit record"] = time.perf_counter() - started
    # the whole command as the coordinator types it (Python's start-up included)
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "carecal", "--db", url, "feed", "rotate", "v0001"], check=True, capture_output=True
    )
    timings["`carecal feed rotate` command"] = time.perf_counter() - started


def coordinator_publishes(
    url: str, after: float, timings: dict, rng: random.Random, base: str, feed_tokens: list[str]
) -> None:
    """During the load, as `carecal roster publish` does after a replan: next week's new
    version, with one visit in 20 moved to another volunteer, published. It changes what
    nearly every feed shows (the one change that makes every worker read every feed).
    Then: how long until the feed of a volunteer who got a visit shows it."""
    time.sleep(after)
    week = IsoWeek.containing(to_local(clock.now()).date()).shift(1)
    with db.session_scope(url, write=True) as s:  # the replan: a draft, in no feed yet
        roster_week = s.scalars(select(RosterWeek).where(RosterWeek.week == str(week))).one()
        rotated = ("v0000", "v0001")  # their links died in the phase before
        volunteers = s.scalars(select(Volunteer.id).where(Volunteer.external_id.not_in(rotated))).all()
        draft = RosterVersion(roster_week=roster_week, number=roster_week.versions[-1].number + 1, created_by="bench")
        s.add(draft)
        s.flush()
        columns = ("request_key", "care_request_id", "client_id", "volunteer_id", "starts_at", "ends_at", "status")
        rows = []
        for visit in roster_week.published.visits:
            row = {name: getattr(visit, name) for name in columns} | {"version_id": draft.id, "pinned": False}
            if rng.random() < 0.05:
                row["volunteer_id"] = gainer = rng.choice(volunteers)
            rows.append(row)
        s.execute(insert(Visit), rows)
        token = feed_tokens[int(s.get(Volunteer, gainer).external_id[1:])]
    before = httpx.get(f"{base}/feeds/{token}.ics").content
    started = time.perf_counter()
    with db.session_scope(url, write=True) as s:
        publish(s, week, "coordinator")
    published = time.perf_counter()
    timings["roster publish"] = published - started
    deadline = published + 300
    while httpx.get(f"{base}/feeds/{token}.ics", timeout=30).content == before and time.perf_counter() < deadline:
        time.sleep(0.1)
    timings["the new visit in the feed after"] = time.perf_counter() - published


def static_server(kind: str, root: Path, port: int) -> subprocess.Popen:
    if kind == "nginx":
        conf = root.parent / "nginx.conf"
        d = root.parent
        temp = " ".join(f"{kind}_temp_path {d};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        conf.write_text(
            f"worker_processes 2; pid {d}/nginx.pid; error_log stderr error; daemon off;\n"
            "events { worker_connections 4096; }\n"
            f"http {{ access_log off; sendfile on; if_modified_since before; {temp}\n"
            "  types { text/calendar ics; }\n"
            f"  server {{ listen 127.0.0.1:{port}; root {root}; }} }}\n"
        )
        return subprocess.Popen(["nginx", "-c", str(conf), "-p", str(root.parent)], stderr=subprocess.DEVNULL)
    return subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(root)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def show(name: str, r: dict) -> None:
    statuses = ", ".join(f"{k}: {v}" for k, v in sorted(r["statuses"].items()))
    print(
        f"{name:<28} {r['rps']:>8.0f} req/s   p50 {r['p50']:.1f} ms  p95 {r['p95']:.1f} ms  p99 {r['p99']:.1f} ms"
        f"  max {r['max']:.0f} ms   [{statuses}; socket errors: {r['socket errors']}]"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--connections", type=int, default=200)
    parser.add_argument("--duration", type=int, default=20, help="seconds per wrk phase")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--db", help="an EMPTY database URL (default: a temporary SQLite file)")
    parser.add_argument(
        "--static", choices=["nginx", "python", "none"], default="nginx" if shutil.which("nginx") else "python"
    )
    parser.add_argument("--seed", type=int, default=48)
    parser.add_argument(
        "--nice", type=int, default=0, help="run the server at this niceness (as a service unit's Nice=)"
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed (Debian: apt-get install wrk)")
    rng = random.Random(args.seed)

    print(
        f"machine  {platform.machine()}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}; load average before {os.getloadavg()[0]:.2f}"
    )
    with tempfile.TemporaryDirectory(prefix="carecal-bench-") as tmp:
        tmp = Path(tmp)
        url = args.db or f"sqlite:///{tmp / 'bench.db'}"
        started = time.perf_counter()
        feed_tokens = seed(url, args.feeds, rng)
        print(f"seeded   {args.feeds} feeds in {db.safe_url(url)} in {time.perf_counter() - started:.0f} s")
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        log = (tmp / "serve.log").open("w")
        command = [sys.executable, "-m", "carecal", "--db", url, "feed", "serve", "--port", str(port)]
        command += ["--workers", str(args.workers), "--token-rate", "0"]
        niceness = f", at nice {args.nice}" if args.nice else ""
        print(f"server   carecal feed serve --workers {args.workers} --token-rate 0 (granian{niceness}), log in a file")
        if args.nice:
            command = ["nice", "-n", str(args.nice), *command]
        server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_until_up(base, time.monotonic() + 60)
            fetched, elapsed = asyncio.run(first_fetches(base, feed_tokens, args.connections))
            sizes = [len(body) for *_, body, _ in fetched]
            latencies = sorted(seconds for *_, seconds in fetched)
            print(
                f"first    {len(fetched)} feeds ({statistics.mean(sizes) / 1024:.1f} kB on average, "
                f"{min(sizes) / 1024:.0f}-{max(sizes) / 1024:.0f} kB), {args.connections} at a time: "
                f"{len(fetched) / elapsed:.0f} req/s, p95 {ms(latencies[int(len(latencies) * 0.95) - 1])} "
                "(cold: each rendered)"
            )
            feed_file = tmp / "feeds.tsv"
            feed_file.write_text("".join(f"{path}\t{etag}\t{modified}\n" for path, etag, modified, *_ in fetched))
            # every worker renders each feed once before measuring: fetch them all a few more
            # times, each on a new connection (the kernel spreads connections over workers)
            for _ in range(3 * args.workers):
                asyncio.run(first_fetches(base, feed_tokens, args.connections, new_connections=True))
            show("304 (If-None-Match)", wrk(base, "304", feed_file, args.connections, args.duration))
            show("full 200 answers", wrk(base, "full", feed_file, args.connections, args.duration))
            timings: dict = {}
            writer = threading.Thread(
                target=coordinator_writes, args=(url, upcoming_visit(url), args.duration / 2, timings)
            )
            writer.start()
            show("mixed, with 2 office writes", wrk(base, "mixed", feed_file, args.connections, args.duration))
            writer.join()
            print("writes   " + ", ".join(f"{name} {ms(seconds)}" for name, seconds in timings.items()))
            timings = {}
            writer = threading.Thread(
                target=coordinator_publishes, args=(url, args.duration / 4, timings, rng, base, feed_tokens)
            )
            writer.start()
            show("mixed, with a publish", wrk(base, "mixed", feed_file, args.connections, args.duration))
            writer.join()
            print("writes   " + ", ".join(f"{name} {ms(seconds)}" for name, seconds in timings.items()))
        finally:
            server.terminate()
            server.wait(timeout=20)
            log.close()
        log_text = (tmp / "serve.log").read_text()
        leaked = sum(token in log_text for token in feed_tokens)
        print(
            f"log      {log_text.count(chr(10))} lines, {leaked} with a token, {log_text.count('Traceback')} tracebacks"
        )

        if args.static != "none":
            root = tmp / "static"
            (root / "feeds").mkdir(parents=True)
            for path, _, _, body, _ in fetched:  # the same bodies as files
                (root / path.lstrip("/")).write_bytes(body)
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            static = static_server(args.static, root, port)
            try:
                wait_until_up(base, time.monotonic() + 30)
                label = "nginx" if args.static == "nginx" else "python -m http.server"
                show(f"static {label}: 304", wrk(base, "since", feed_file, args.connections, args.duration))
                show(f"static {label}: full", wrk(base, "full", feed_file, args.connections, args.duration))
            finally:
                static.terminate()
                static.wait(timeout=20)
    print(f"load average after {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
