"""The demo's calendar step: write the week's .ics files and make one feed link to try."""

from sqlalchemy import select

from carecal import db
from carecal.feeds import tokens
from carecal.feeds.calendars import write_week
from carecal.models import RosterVersion, RosterWeek, Visit


def write_calendars(ctx) -> None:
    """Write the week's calendar files and make one feed link to try.

    The .ics files of ctx.weeks.this go into ctx.out; the link belongs to the volunteer with the
    week's first published visit."""
    with db.session_scope(ctx.url) as session:
        written = write_week(session, ctx.weeks.this, ctx.out)
        first = session.scalars(
            select(Visit)
            .join(RosterVersion)
            .join(RosterWeek)
            .where(RosterWeek.week == str(ctx.weeks.this), RosterVersion.status == "published")
            .order_by(Visit.starts_at, Visit.request_key)
        ).first()
        token = tokens.issue(session, first.volunteer, ctx.actor) if first is not None else None
        who = f"{first.volunteer.external_id} ({first.volunteer.first_name})" if first is not None else ""
    ctx.console.print(f"  calendars     {len(written)} .ics files for {ctx.weeks.this} in {ctx.out}/", highlight=False)
    if token:
        url = f"http://127.0.0.1:8080/feeds/{token}.ics"
        ctx.console.print(f"  feed of {who}: {url}", highlight=False, soft_wrap=True)
        ctx.notes.append(f"calendar feed of {who}: carecal --db {ctx.url} feed serve, then open {url}")
