"""`carecal client list|show`."""

import typer
from rich.table import Table

from carecal.cli.common import console, fields_table, noun, period_text, session
from carecal.masterdata import views

app = noun("client", "Clients: list and show.")


@app.command("list")
def client_list(
    all_: bool = typer.Option(False, "--all", help="include inactive clients"),
    district: str = typer.Option(None, "--district", "-d", help="only clients living in this district"),
) -> None:
    """Clients with district, languages, gender wish and weekly visits (no health data)."""
    with session() as s:
        rows = views.client_rows(s, include_inactive=all_, district=district)
    table = Table(
        "id",
        "name",
        "district",
        "languages",
        "wish",
        "visits/wk",
        "billed to",
        title=f"{len(rows)} clients",
        title_justify="left",
    )
    table.columns[0].no_wrap = True
    for c in rows:
        table.add_row(
            c["id"] + ("" if c["active"] else " [dim](inactive)[/]"),
            c["name"],
            c["district"],
            " ".join(c["languages"]),
            c["gender_preference"],
            str(c["visits_per_week"]),
            c["billed_to"],
        )
    console.print(table)


@app.command("show")
def client_show(external_id: str = typer.Argument(..., metavar="ID", help="the client's id, e.g. c017")) -> None:
    """Everything about one client, health data included (the coordinator's own screen)."""
    with session() as s:
        c = views.client_card(s, external_id)
    grade = c["care_grade_today"]
    grades = "; ".join(f"{g} from {since}" for g, since in c["care_grades"]) or "none"
    ik = f"(IK {c['insurer_ik']})" if c["insurer_ik"] else ""
    insurer = f"{c['insurer_name'] or ''} {ik}".strip()
    console.print(
        fields_table(
            f"{c['name']} ({c['id']})" + ("" if c["active"] else " — inactive"),
            [
                ("born", str(c["date_of_birth"])),
                ("phone", c["phone"]),
                ("home", c["home"]),
                ("location", c["location"]),
                ("languages", " ".join(c["languages"]) + "  (first: mother tongue)"),
                ("dementia", "yes" if c["dementia"] else "no"),
                ("care grade", f"{grade if grade is not None else 'none'} today ({grades})"),
                ("gender wish", c["gender_preference"] or "none"),
                ("insurer", insurer),
                ("insurance number", c["insurance_number"]),
                ("representative", ", ".join(c["representative"]) or "none"),
                ("consent recorded", str(c["consent_recorded_on"] or "[red]missing[/]")),
                (
                    "billing",
                    f"insurer directly (assignment of {c['benefits_assigned_on']})"
                    if c["benefits_assigned_on"]
                    else "client pays and claims back",
                ),
                ("§45a(4) conversion", "yes" if c["conversion_budget_opt_in"] else "no"),
                ("family calendar", "yes" if c["family_feed_opt_in"] else "no"),
            ],
        )
    )
    table = Table(
        "request",
        "activity",
        "category",
        "visits",
        "minutes",
        "windows",
        "priority",
        "valid",
        "note",
        title="Care requests",
        title_justify="left",
    )
    for r in c["requests"]:
        table.add_row(
            r["id"],
            r["activity"],
            r["category"],
            f"{r['visits_per_week']}×",
            str(r["duration_min"]),
            "\n".join(r["windows"]),
            str(r["priority"]),
            f"{r['valid_from']} – {r['valid_to'] or ''}",
            r["note"],
        )
    console.print(table)
    if c["must_not_be_visited_by"]:
        console.print("[bold]Must not be visited by[/]")
        for e in c["must_not_be_visited_by"]:
            console.print(
                f"  {e['volunteer']} {e['name']}: {e['kind']}" + (f" until {e['until']}" if e["until"] else "")
            )
    if c["away_ahead"]:
        console.print("[bold]Away[/]")
        for start, end in c["away_ahead"]:
            console.print(f"  {period_text(start, end)}")
