"""`carecal feed ...`: subscription links and the feed server."""

from pathlib import Path

import typer
from sqlalchemy.orm import Session

from carecal import audit, catalogue, config, lookup, private_files
from carecal.cli.common import ActorOption, console, db_url, noun, session
from carecal.errors import Conflict, InputError
from carecal.feeds import links, tokens
from carecal.models import Client, Volunteer

app = noun("feed", "Personal calendar subscription feeds.")

OwnerArgument = typer.Argument(..., help="the volunteer's id (e.g. v001), or with --client the client's (e.g. c017)")
ClientOption = typer.Option(False, "--client", help="the family feed of a client who opted in, not a volunteer's feed")


QrOption = typer.Option(False, "--qr", help="also print the link as a QR code (scan it to subscribe)")
QrFileOption = typer.Option(None, "--qr-file", help="also write the QR code to this .png or .svg file (mode 0600)")


def _owner(s: Session, external_id: str, client: bool) -> Volunteer | Client:
    return lookup.client(s, external_id) if client else lookup.volunteer(s, external_id)


@app.command("url")
def url(
    owner: str = OwnerArgument,
    client: bool = ClientOption,
    qr: bool = QrOption,
    qr_file: Path | None = QrFileOption,
    actor: str = ActorOption,
) -> None:
    """Make the subscription link of a volunteer (or family) who has none, and print it.

    The link is shown only this once (carecal keeps only a hash of it): send it to the
    person through a private channel, or let them scan it (--qr), or print a handout
    (`carecal feed handout`). If it is lost, `carecal feed rotate` makes a new one.
    """
    _check_qr_file(qr_file)
    with session() as s:
        person = _owner(s, owner, client)
        _refuse_second_link(s, person, owner, client)
        token = tokens.issue(s, person, config.actor(actor))
    _print_links(owner, token, qr=qr, qr_file=qr_file)


@app.command("rotate")
def rotate(
    owner: str = OwnerArgument,
    client: bool = ClientOption,
    qr: bool = QrOption,
    qr_file: Path | None = QrFileOption,
    actor: str = ActorOption,
) -> None:
    """Make a new subscription link; the old one stops working at once."""
    _check_qr_file(qr_file)
    with session() as s:
        token = tokens.issue(s, _owner(s, owner, client), config.actor(actor))
    _print_links(owner, token, qr=qr, qr_file=qr_file)


@app.command("handout")
def handout(
    volunteer: str = typer.Argument(..., help="the volunteer's id, e.g. v007"),
    rotate: bool = typer.Option(False, "--rotate", help="replace the live link (old link and sheet stop working)"),
    out: Path | None = typer.Option(None, "--out", help="the PDF to write (default: exports/handout-<id>.pdf)"),
    actor: str = ActorOption,
) -> None:
    """Make the volunteer's link and a one-page PDF to hand them: QR code, link, steps.

    In the volunteer's calendar language: scan the code on iPhone or Android (ICSx⁵), or
    type the link in Thunderbird. The sheet holds the secret link: the file is written for
    the office only (0600); give it by hand. Like `feed url`, it refuses when a live link
    exists (it cannot be shown again): --rotate makes a new link and a new sheet.
    """
    from carecal import organisation
    from carecal.feeds.handout import Handout, render_handout

    path = out or Path("exports") / f"handout-{volunteer}.pdf"
    with session() as s:
        person = lookup.volunteer(s, volunteer)
        if not rotate:
            _refuse_second_link(s, person, volunteer, client=False)
        token = tokens.issue(s, person, config.actor(actor))
        https, webcal = links.feed_links(token)
        org = organisation.find(s)
        sheet = Handout(
            first_name=person.first_name,
            language=catalogue.feed_language(person.ui_language, person.languages, catalogue.load(s).languages),
            organisation=org.name if org else "",
            webcal=webcal,
            https=https,
            office_phone=org.phone if org else None,
        )
        # written before the new link is committed: no live link without its sheet
        private_files.write_bytes(path, render_handout(sheet))
    console.print(f"handout for {volunteer} written to {path} (keep it private; give it by hand)", highlight=False)


@app.command("revoke")
def revoke(owner: str = OwnerArgument, client: bool = ClientOption, actor: str = ActorOption) -> None:
    """Kill the subscription link; the calendar app gets 404 from now on."""
    with session() as s:
        revoked = tokens.revoke(s, _owner(s, owner, client), config.actor(actor))
    console.print(f"{owner}: feed link revoked" if revoked else f"{owner} had no live feed link")


@app.command("reminders")
def reminders(
    volunteer: str = typer.Argument(..., help="the volunteer's id, e.g. v007"),
    set_to: str | None = typer.Option(
        None,
        "--set",
        help="e.g. '1d@18:00, 1h' (the day before at 18:00 and one hour before), '30m', 'none', or 'default'",
    ),
    actor: str = ActorOption,
) -> None:
    """Show or set when a volunteer's calendar reminds them of a visit.

    Each item is a time before the visit (30m, 1h, 2d) or a day and a local time
    (1d@18:00: the day before at 18:00). The default is the evening before at 18:00 and one
    hour before; 'none' switches reminders off. Their feed carries the change at once.
    """
    from carecal.feeds import reminders as chosen

    with session(write=set_to is not None) as s:
        person = lookup.by_external_id(s, Volunteer, volunteer)
        if set_to is not None:
            try:
                person.reminders = None if set_to.strip().lower() == "default" else list(chosen.parse(set_to))
            except ValueError as error:
                raise InputError(f"--set {set_to!r}: {error}") from None
            audit.record(
                s,
                config.actor(actor),
                "volunteer.reminders",
                object_type="volunteer",
                object_id=person.external_id,
                reminders=chosen.describe(person.reminders),
            )
        console.print(f"{volunteer}: reminders {chosen.describe(person.reminders)}", highlight=False)


@app.command("serve")
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="address to listen on (keep loopback behind a TLS proxy)"),
    port: int = typer.Option(8080, "--port", help="TCP port"),
    workers: int = typer.Option(2, "--workers", min=1, help="worker processes (about one per CPU core)"),
    token_rate: str = typer.Option(
        "20/30",
        "--token-rate",
        help="per feed link: BURST requests at once, then one every SECONDS (BURST/SECONDS); 0 = no limit",
    ),
    trusted_proxy: list[str] = typer.Option(
        list(config.DEFAULT_TRUSTED_PROXIES),
        "--trusted-proxy",
        help="address of the TLS proxy whose X-Forwarded-For names the client (repeatable)",
    ),
    header_timeout: float = typer.Option(
        10.0, "--header-timeout", min=0.001, max=60, help="seconds a client has to send its request head"
    ),
    stale_seconds: float = typer.Option(
        30.0,
        "--stale-seconds",
        min=0,
        help="after a publish, answer feeds from memory for up to this long while they are read again "
        "(a feed whose own link or visits changed is read at once); 0 = read first",
    ),
) -> None:
    """Serve /feeds/<token>.ics: published visits from 4 weeks back to 8 weeks ahead.

    Several worker processes (granian), each answering unchanged feeds from memory. The
    access log names the route, never the link. See docs/feeds.md for a TLS proxy in front.
    """
    from carecal import db
    from carecal.feeds.app import serve as run_server
    from carecal.feeds.app import token_rate as parse_token_rate

    try:
        parse_token_rate(token_rate)
    except ValueError as error:
        raise InputError(str(error)) from None
    db.require_current(db_url())
    console.print(
        f"serving calendar feeds on http://{host}:{port}/feeds/<token>.ics with {workers} workers (Ctrl-C stops)"
    )
    run_server(
        db_url(),
        host=host,
        port=port,
        workers=workers,
        token_rate_text=token_rate,
        trusted_proxies=trusted_proxy,
        header_timeout=header_timeout,
        stale_seconds=stale_seconds,
    )


def _refuse_second_link(s, person, owner: str, client: bool) -> None:
    existing = tokens.live_token(s, person)
    if existing is not None:
        raise Conflict(
            f"{owner} already has a feed link (made {existing.created_at:%Y-%m-%d} by {existing.created_by}); "
            f"it is stored only as a hash and cannot be shown again. "
            f"`carecal feed rotate {owner}{' --client' if client else ''}` makes a new one and kills the old one"
        )


def _check_qr_file(path: Path | None) -> None:
    if path is not None and path.suffix.lower() not in (".png", ".svg"):
        raise InputError(f"--qr-file {path}: write the QR code as .png or .svg")


def _print_links(owner: str, token: str, *, qr: bool = False, qr_file: Path | None = None) -> None:
    https, webcal = links.feed_links(token)
    console.print(f"feed link for {owner} (shown only now; send it privately):", highlight=False)
    console.print(f"  {https}", highlight=False, soft_wrap=True)
    console.print(f"  {webcal}", highlight=False, soft_wrap=True)
    if qr:
        # plain stdout: the console's styling would break the blocks apart
        typer.echo(links.qr_terminal(webcal), nl=False)
    if qr_file is not None:
        links.write_qr(webcal, qr_file)
        console.print(f"QR code of the webcal:// link written to {qr_file}", highlight=False)
