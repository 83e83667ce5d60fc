"""`carecal volunteer list|show`."""

from datetime import date

import typer
from rich.table import Table

from carecal import organisation
from carecal.cli.common import console, fields_table, noun, period_text, session
from carecal.errors import InputError
from carecal.masterdata import views

app = noun("volunteer", "Volunteers: list and show.")

OnOption = typer.Option(None, "--on", help="date for training validity, YYYY-MM-DD (default: today)")


def _day(on: str | None) -> date | None:
    if on is None:
        return None
    try:
        return date.fromisoformat(on)
    except ValueError:
        raise InputError(f"--on {on!r} is not a date like 2026-11-23") from None


def _training(state: str) -> str:
    return {"lapsed": "[red]lapsed[/]", "none": "[dim]none[/]"}.get(state, state)


@app.command("list")
def volunteer_list(
    all_: bool = typer.Option(False, "--all", help="include inactive volunteers"),
    language: str = typer.Option(None, "--language", "-l", help="only those who speak this language (ISO 639-1)"),
    on: str = OnOption,
) -> None:
    """Volunteers with languages, travel, weekly cap and training status."""
    day = _day(on)
    with session() as s:
        day = day or organisation.today(s)
        rows = views.volunteer_rows(s, day, include_inactive=all_, language=language)
    table = Table(
        "id",
        "name",
        "district",
        "languages",
        "g",
        "travel",
        "h/wk",
        "basic",
        "dementia",
        title=f"{len(rows)} volunteers (trainings on {day})",
        title_justify="left",
    )
    table.columns[0].no_wrap = True
    for v in rows:
        table.add_row(
            v["id"] + ("" if v["active"] else " [dim](inactive)[/]"),
            v["name"],
            v["district"],
            " ".join(v["languages"]),
            v["gender"],
            f"{v['travel_mode']} {v['max_km']:g} km",
            f"{v['hours_per_week']:g}",
            _training(v["trainings"]["basic"]),
            _training(v["trainings"]["dementia"]),
        )
    console.print(table)


@app.command("show")
def volunteer_show(
    external_id: str = typer.Argument(..., metavar="ID", help="the volunteer's id, e.g. v007"), on: str = OnOption
) -> None:
    """Everything about one volunteer: contact, home, languages, availability, trainings, absences."""
    day = _day(on)
    with session() as s:
        day = day or organisation.today(s)
        v = views.volunteer_card(s, external_id, day)
    console.print(
        fields_table(
            f"{v['name']} ({v['id']})" + ("" if v["active"] else " — inactive"),
            [
                ("gender", v["gender"]),
                ("phone", v["phone"]),
                ("e-mail", v["email"]),
                ("home", v["home"]),
                ("location", v["location"]),
                ("languages", " ".join(v["languages"]) + "  (best first)"),
                (
                    "calendar language",
                    v["calendar_language"]
                    + ("" if v["ui_language"] else " (not chosen: their first the catalogue has)"),
                ),
                ("travel", f"{v['travel_mode']}, at most {v['max_km']:g} km one way"),
                ("limits", f"{v['max_minutes_per_week']} min a week, {v['max_visits_per_day']} visits a day"),
                ("availability", "; ".join(v["availability"]) or "none"),
                ("allowance to", v["allowance_account"]),
                ("tax-free limit", v["allowance_limit"]),
            ],
        )
    )
    trainings = Table("training", "completed", "expires", f"on {day}", title="Trainings", title_justify="left")
    for t in v["trainings"]:
        trainings.add_row(
            t["kind"],
            str(t["completed_on"]),
            str(t["expires_on"] or "never"),
            "valid" if t["valid"] else "[red]not valid[/]",
        )
    console.print(trainings)
    console.print("[bold]Absences[/] " + ("(none ahead)" if not v["absences_ahead"] else ""))
    for a in v["absences_ahead"]:
        console.print(f"  {period_text(*a['period'])}" + (" (override)" if a["override"] else ""))
    if v["must_not_visit"]:
        console.print("[bold]Must not visit[/]")
        for e in v["must_not_visit"]:
            until = f" until {e['until']}" if e["until"] else ""
            console.print(f"  {e['client']} {e['label']}: {e['kind']}{until}")
