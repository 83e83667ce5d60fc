"""Rules 1-4 of docs/format.md: who may visit whom, whatever the time.

The one home of these rules: the candidate pruning, the reasons, `explain` and the
application's pin warnings all ask here. The words say which rule and what the coordinator
can act on, never the health fact behind a rule (they may be shown or logged).
"""

from __future__ import annotations

from dataclasses import dataclass

from solver.instance import Client, Instance, Volunteer
from solver.travel import distance_km

GENDER_WORD = {"f": "female", "m": "male", "d": "diverse"}


@dataclass(frozen=True)
class Break:
    """One of rules 1-4 that a pairing breaks."""

    rule: int
    text: str

    def __str__(self) -> str:
        return f"rule {self.rule}: {self.text}"


def matching_breaks(inst: Instance, client: Client, volunteer: Volunteer) -> list[Break]:
    """Every one of rules 1-4 that `volunteer` visiting `client` breaks (empty: none)."""
    breaks = []
    if client.dementia and client.mother_tongue not in volunteer.languages:
        breaks.append(
            Break(1, f"does not speak the client's mother tongue ({client.mother_tongue}), required for this client")
        )
    elif not set(client.languages) & set(volunteer.languages):
        breaks.append(Break(1, f"speaks none of the client's languages ({', '.join(client.languages)})"))
    if client.dementia and not volunteer.dementia_trained:
        breaks.append(Break(2, "lacks a training that visits to this client require"))
    if client.gender_preference and volunteer.gender != client.gender_preference:
        breaks.append(Break(3, f"the client asked for a {GENDER_WORD[client.gender_preference]} volunteer"))
    if volunteer.id in client.excluded_volunteers:
        breaks.append(Break(3, "is excluded from visiting this client"))
    km = distance_km(inst.travel, volunteer.home, client.home)
    if km > volunteer.max_km:
        breaks.append(Break(4, f"lives {km:.1f} km away, beyond their reach of {volunteer.max_km:g} km"))
    return breaks


def matches_person(client: Client, volunteer: Volunteer) -> bool:
    """Rules 1-3 hold (the fast form of `matching_breaks`, reach left to the caller)."""
    if client.dementia:
        if not volunteer.dementia_trained or client.mother_tongue not in volunteer.languages:
            return False
    elif not set(client.languages) & set(volunteer.languages):
        return False
    if client.gender_preference and volunteer.gender != client.gender_preference:
        return False
    return volunteer.id not in client.excluded_volunteers


def pairing_breaks(inst: Instance, client_id: str, volunteer_id: str) -> list[str]:
    """Rules 1-4 that `volunteer_id` visiting `client_id` breaks, in words (the application's
    warnings for a pin). KeyError when either id is not in the instance."""
    client = inst.clients[inst.client_index[client_id]]
    volunteer = inst.volunteers[inst.volunteer_index[volunteer_id]]
    return [b.text for b in matching_breaks(inst, client, volunteer)]
