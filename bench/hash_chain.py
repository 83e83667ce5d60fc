"""What the hash chains cost: appending audit events and verifying every chain.

    .venv/bin/python bench/hash_chain.py [--events 20000] [--db URL]

Appends `--events` audit events in one write transaction (each one locks the chain heads,
takes the next id and hashes itself, as every carecal write does), then runs the check
`carecal audit verify` runs. Without --db it uses a throw-away SQLite file; a --db must
be an empty database (it is migrated here). Not a test: it reads the real clock.
"""

import argparse
import tempfile
import time
from pathlib import Path

from carecal import audit, db, integrity


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--db", help="an empty database (default: a new SQLite file)")
    args = parser.parse_args()
    url = args.db or f"sqlite:///{Path(tempfile.mkdtemp()) / 'chain.db'}"
    if not db.is_empty(url):
        raise SystemExit(f"{db.safe_url(url)} is not empty")
    db.upgrade(url)

    started = time.perf_counter()
    with db.session_scope(url, write=True) as s:
        for n in range(args.events):
            audit.record(s, "bench", "bench.event", object_type="visit", object_id=n, number=n, reason="x" * 40)
            if n % 500 == 499:
                s.flush()
    appended = time.perf_counter() - started

    started = time.perf_counter()
    with db.session_scope(url) as s:
        states = integrity.verify(s)
    verified = time.perf_counter() - started
    if not all(state.ok for state in states):
        raise SystemExit(f"a chain does not hold: {[str(s.problem) for s in states if s.problem]}")
    print(
        f"{url.split(':', 1)[0]}: {args.events} events appended in {appended:.1f} s ({args.events / appended:.0f}/s), "
        f"every chain verified in {verified:.2f} s ({args.events / verified:.0f} rows/s)"
    )


if __name__ == "__main__":
    main()
