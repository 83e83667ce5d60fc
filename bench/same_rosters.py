"""Do two versions of the solver give the same rosters? One hash per deterministic solve.

    .venv/bin/python bench/same_rosters.py > before.txt     # on the old commit
    .venv/bin/python bench/same_rosters.py > after.txt      # on the new one
    diff before.txt after.txt                                # no output: the same rosters

A change meant to keep the solver's behaviour (a refactoring) shows it did: every solve
here runs with one worker, so CP-SAT counts deterministic time and the ejection search
attempts, and the same code gives the same roster on any machine and under any load. Each
line names the case and hashes the roster (its assignments, uncovered requests, moves and
figures, not its timings), then the reasons it gives, and shows its coverage and bound.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

if __name__ == "__main__":  # run as a script, this file's folder must not hide the `solver` package
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from solver import SearchParams, solve  # noqa: E402
from solver.generate import generate  # noqa: E402

WEEK = "2026-W48"
# The week's LP has a wall-clock limit (about twice what it takes); on a busy machine it
# could run out and change the search. Here it always finishes.
PARAMS = SearchParams(relaxation_min_seconds=300)
TIMED = ("seconds", "elapsed", "_at")  # stats keys that measure time, not behaviour


def fingerprint(roster: dict[str, Any]) -> str:
    """The roster's hash (assignments, status, figures), then its reasons' (words may change
    without the roster changing)."""
    stats = {k: v for k, v in roster["stats"].items() if not any(t in k for t in TIMED)}
    kept = {k: roster.get(k) for k in ("assignments", "status")} | {
        "stats": stats,
        "unassigned": [u["request"] for u in roster["unassigned"]],
    }
    reasons = [u["reasons"] for u in roster["unassigned"]]
    return f"{_hash(kept)} reasons {_hash(reasons)}"


def _hash(value: object) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:12]


def absent(instance: dict[str, Any], roster: dict[str, Any]) -> dict[str, Any]:
    """The week with the roster's busiest volunteer absent all week."""
    counts = Counter(a["volunteer"] for a in roster["assignments"])
    gone = max(sorted(counts), key=counts.__getitem__)
    days = [{"date": f"2026-11-{d}"} for d in range(23, 30)]
    return instance | {"volunteers": [v | {"absences": days} if v["id"] == gone else v for v in instance["volunteers"]]}


def cases(quick: bool) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(name, instance, keyword arguments of solve) for every case."""
    found: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
    sizes = [("S", 2.0), ("M", 3.0)] + ([] if quick else [("L", 4.0)])
    for scenario in ("easy", "scarce", "flex"):
        for size, limit in sizes:
            instance = generate(size, 1, WEEK, scenario)
            found.append((f"{scenario} {size}", instance, {"time_limit": limit}))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="S and M only")
    args = parser.parse_args(argv)
    for name, instance, options in cases(args.quick):
        roster = solve(instance, workers=1, seed=1, params=PARAMS, **options)
        stats = roster["stats"]
        print(f"{name}: {fingerprint(roster)} coverage {stats['weighted_coverage']} bound {stats['coverage_bound']}")
        if name.endswith(" M"):
            changed = absent(instance, roster)
            replanned = solve(changed, workers=1, seed=1, params=PARAMS, base=roster, time_limit=2.0)
            print(f"{name} replan: {fingerprint(replanned)} rescued {replanned['stats']['rescued']}")
            again = solve(instance, workers=1, seed=1, params=PARAMS, previous=roster, time_limit=options["time_limit"])
            print(f"{name} next week: {fingerprint(again)} coverage {again['stats']['weighted_coverage']}")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
