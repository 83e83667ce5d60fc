"""The shared test builders produce rows the schema accepts, on both backends."""

from sqlalchemy import select

from carecal.models import Visit
from tests import factories as f


def test_a_published_visit_round_trips(session):
    f.organisation(session)
    v = f.volunteer(session)
    c = f.client(session)
    r = f.care_request(session, c)
    visit = f.published_visit(session, "2026-W43", r, v, day="sun", start="14:00")
    session.commit()
    session.expire_all()  # read back from the database, not the identity map
    stored = session.scalars(select(Visit)).one()
    assert stored.request_key == f"{r.external_id}#1"
    assert stored.starts_at == visit.starts_at
    assert stored.starts_at.isoformat() == "2026-10-25T13:00:00+00:00"  # 14:00 CET after the switch
    assert stored.version.status == "published"
