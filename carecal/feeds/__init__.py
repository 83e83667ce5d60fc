"""Calendar feeds: personal subscription feeds and iCal exports of published rosters.

render.py     FeedEvent → iCalendar bytes (pure)
events.py     published versions → FeedEvents per audience: UID, SEQUENCE, cancellations (pure)
i18n.py       the gettext catalogs under carecal/locale
calendars.py  the database side: a volunteer's, a family's and the office's calendar; week export
tokens.py     feed link secrets: issue, rotate, revoke, find (hash only)
app.py        the Starlette app behind `carecal feed serve`
"""

from carecal.feeds.render import FeedEvent, render_calendar

__all__ = ["FeedEvent", "render_calendar"]
