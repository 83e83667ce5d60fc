"""Who could take a visit, and why the roster looks as it does (`suggest`, `explain`).

Both work on a stored version: its instance and its roster, so the answer matches what the
coordinator is looking at. The solver says which rules each volunteer breaks; this module
adds what makes a good substitute: the mother tongue, a familiar face, a short trip, room
in the week.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

import solver
from carecal.errors import NotFound
from carecal.instance import roster_document
from carecal.models import Override, RosterVersion, Visit
from carecal.roster.versions import get_version, load_by_volunteer
from carecal.weeks import IsoWeek


@dataclass
class Candidate:
    volunteer: str
    ok: bool
    breaks: list[str]
    distance_km: float
    mother_tongue: bool
    knows_client: bool
    minutes: int
    max_minutes: int
    reasons: list[str] = field(default_factory=list)

    @property
    def load_share(self) -> float:
        return self.minutes / self.max_minutes if self.max_minutes else 1.0

    def rank_key(self) -> tuple:
        return (
            not self.ok,
            not self.mother_tongue,
            not self.knows_client,
            round(self.distance_km),
            self.load_share,
            self.volunteer,
        )


def _explained(version: RosterVersion, request: str) -> dict:
    if not version.instance:
        raise NotFound(f"version {version.number} has no stored instance")
    try:
        return solver.explain(version.instance, request, roster=roster_document(version))
    except solver.InstanceError as error:
        raise NotFound(
            f"no request {request!r} in week {version.roster_week.week}: "
            f"{'; '.join(reason for _, reason in error.errors)}"
        ) from None


def _client_doc(instance: dict, client_id: str) -> dict:
    return next(c for c in instance["clients"] if c["id"] == client_id)


def candidates(version: RosterVersion, request: str) -> tuple[dict, list[Candidate]]:
    """The solver's view of REQUEST and every volunteer ranked as a substitute."""
    explained = _explained(version, request)
    instance = version.instance or {}  # _explained refuses a version without one
    client = _client_doc(instance, explained["client"])
    volunteers = {v["id"]: v for v in instance["volunteers"]}
    minutes = load_by_volunteer(version)
    familiar = set(client.get("previous_volunteers", [])) | {
        v.volunteer.external_id
        for v in version.visits
        if v.client.external_id == client["id"] and v.request_key != request and v.status == "planned"
    }
    result = []
    for row in explained["candidates"]:
        v = volunteers[row["volunteer"]]
        candidate = Candidate(
            volunteer=row["volunteer"],
            ok=row["ok"],
            breaks=list(row["breaks"]),
            distance_km=row["distance_km"],
            mother_tongue=client["languages"][0] in v["languages"],
            knows_client=row["volunteer"] in familiar,
            minutes=minutes.get(row["volunteer"], 0),
            max_minutes=v["max_minutes_per_week"],
        )
        if candidate.mother_tongue:
            candidate.reasons.append(f"speaks the mother tongue ({client['languages'][0]})")
        else:
            shared = [lang for lang in client["languages"] if lang in v["languages"]]
            if shared:
                candidate.reasons.append(f"speaks {', '.join(shared)}")
        if candidate.knows_client:
            candidate.reasons.append("already knows the client")
        candidate.reasons.append(f"{candidate.distance_km:.1f} km away")
        candidate.reasons.append(f"load {candidate.minutes}/{candidate.max_minutes} min this week")
        result.append(candidate)
    return explained, sorted(result, key=Candidate.rank_key)


def suggest(
    session: Session, week: IsoWeek, request: str, *, version: int | None = None
) -> tuple[dict, list[Candidate]]:
    """Ranked substitutes for REQUEST in the week's latest version (or `version`); the one
    who has it now is left out."""
    stored = get_version(session, week, version)
    explained, ranked = candidates(stored, request)
    current = (explained.get("assigned_to") or {}).get("volunteer")
    return explained, [c for c in ranked if c.volunteer != current]


def _kept(stored: RosterVersion, request: str) -> Visit | None:
    """The visit of REQUEST if the version kept it as it was (history: carecal.lifecycle)."""
    if request not in (stored.stats or {}).get("kept", []):
        return None
    return next((v for v in stored.visits if v.request_key == request), None)


def _forbids_against_pin(session: Session, stored: RosterVersion, request: str, volunteer: str) -> list[str]:
    """The coordinator's forbid overrides that the pin of REQUEST to VOLUNTEER overrules."""
    client_id = next((v.client_id for v in stored.visits if v.request_key == request), None)
    forbids = session.scalars(
        select(Override).where(
            Override.kind == "forbid",
            Override.removed_at.is_(None),
            Override.client_id == client_id,
            Override.volunteer.has(external_id=volunteer),
        )
    ).all()
    monday = IsoWeek.parse(stored.roster_week.week).monday
    return [
        f"override #{o.id} forbids {volunteer} for this client (by {o.actor}: {o.reason}); the pin overrules it "
        f"in this week: remove one of them (`carecal override remove ID`)"
        for o in forbids
        if o.until is None or o.until >= monday
    ]


def explain(session: Session, week: IsoWeek, request: str, *, version: int | None = None) -> dict:
    """Why REQUEST has its volunteer, or why nobody: the solver's answer plus the chosen
    volunteer's strengths and the nearest alternatives. A visit the version kept as it was
    (it had started, or has an outcome) is explained as such; a pin that overrules a
    forbid is named with both overrides."""
    stored = get_version(session, week, version)
    kept = _kept(stored, request)
    if kept is not None:
        return {
            "week": str(week),
            "version": stored.number,
            "request": request,
            "client": kept.client.external_id,
            "windows": [],
            "duration_min": int((kept.ends_at - kept.starts_at).total_seconds() // 60),
            "assigned_to": {
                "volunteer": kept.volunteer.external_id,
                "start": kept.starts_at.isoformat(),
                "end": kept.ends_at.isoformat(),
            },
            "pinned_by_override": None,
            "strengths": ["kept as published: the visit had already started or has a recorded outcome"],
            "conflicts": [],
            "reasons": [],
            "alternatives": [],
        }
    explained, ranked = candidates(stored, request)
    assigned = explained.get("assigned_to")
    chosen = next((c for c in ranked if assigned and c.volunteer == assigned["volunteer"]), None)
    pin = (stored.stats or {}).get("pin_overrides", {}).get(request)
    unassigned = next((u.reasons for u in stored.unassigned if u.request_key == request), None)
    conflicts = _forbids_against_pin(session, stored, request, assigned["volunteer"]) if pin and assigned else []
    return {
        "week": str(week),
        "version": stored.number,
        "request": request,
        "client": explained["client"],
        "windows": explained.get("windows", []),
        "duration_min": explained.get("duration_min"),
        "assigned_to": assigned,
        "pinned_by_override": pin,
        "strengths": chosen.reasons if chosen else [],
        "conflicts": conflicts,
        "reasons": unassigned if unassigned is not None else explained.get("reasons", []),
        "alternatives": [c for c in ranked if not assigned or c.volunteer != assigned["volunteer"]],
    }
