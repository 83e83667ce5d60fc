"""`carecal audit verify`: is the recorded history intact?"""

import typer

from carecal import integrity
from carecal.cli.common import console, err_console, noun, session

app = noun("audit", "The audit trail: check that history was not rewritten.")


@app.command("verify")
def audit_verify(
    anchor: list[str] = typer.Option(
        None,
        "--anchor",
        help="CHAIN:ROW:HASH as this command printed it earlier (repeatable): that row must still have that hash",
    ),
) -> None:
    """Check the hash chains of the audit log, invoices, ledger entries and payouts (with their lines); exit 1
    naming the first row of each chain that was changed, removed, replaced or slipped in."""
    anchors = tuple(integrity.parse_anchor(text) for text in anchor or ())
    with session() as s:
        states = integrity.verify(s, anchors)
    for state in states:
        verdict = "[green]intact[/]" if state.ok else "[bold red]BROKEN[/]"
        console.print(
            f"{state.table:<13} {state.rows:>7} row(s) {verdict}  head {state.anchor}", highlight=False, soft_wrap=True
        )
    broken = [state for state in states if not state.ok]
    if not broken:
        console.print("history intact; write the heads down (e.g. with the month's closing papers) to check later")
        return
    for state in broken:
        err_console.print(f"[red]problem:[/] {state.problem}", highlight=False)
    err_console.print(f"[bold red]error:[/] {len(broken)} hash chain(s) broken")
    raise typer.Exit(1)
