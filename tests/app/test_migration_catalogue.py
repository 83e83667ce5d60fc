"""Migration 0008 on a database with data: free-text activities become office notes, word
for word; requests and records get the catalogue key `visit`; a calendar language of 'de'
that the volunteer does not speak is left to default."""

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import select, text

from carecal import clock, db
from carecal.billing import records
from carecal.models import Activity, CareRequest, VisitRecord, Volunteer
from tests import factories as f

DEMENTIA_GROUP = "Begleitung zur Demenzgruppe"


def test_free_text_activities_survive_the_migration_as_office_notes(db_url):
    with db.session_scope(db_url) as s:
        org = f.organisation(s)
        f.billing_rates(s, org)
        russian = f.volunteer(s, languages=["ru"], ui_language="de")
        bilingual = f.volunteer(s, languages=["ru", "de"], ui_language="de")
        request = f.care_request(s, f.client(s), note=DEMENTIA_GROUP)
        visit = f.published_visit(s, "2026-W47", request, russian)
        with clock.frozen(datetime(2026, 11, 20, 12, tzinfo=UTC)):
            records.record_visit(s, visit.id, "anna", status="delivered")
        ids = russian.id, bilingual.id

    command.downgrade(db.alembic_config(db_url), "0007")
    with db.engine_for(db_url).connect() as connection:
        assert connection.execute(text("SELECT activity FROM care_request")).scalar_one() == DEMENTIA_GROUP
        assert connection.execute(text("SELECT activity FROM visit_record")).scalar_one() == "Gespräch und Spaziergang"

    db.upgrade(db_url)
    with db.session_scope(db_url) as s:
        request = s.scalars(select(CareRequest)).one()
        record = s.scalars(select(VisitRecord)).one()
        assert (request.activity_key, request.note) == ("visit", DEMENTIA_GROUP)
        assert (record.activity_key, record.note) == ("visit", "Gespräch und Spaziergang")
        assert s.scalars(select(Activity.labels)).one() == {"de": "Besuch", "ru": "Визит", "uk": "Візит", "en": "Visit"}
        assert [s.get(Volunteer, i).ui_language for i in ids] == [None, "de"]


def test_an_empty_database_gets_no_fallback_activity(db_url):
    command.downgrade(db.alembic_config(db_url), "0007")
    db.upgrade(db_url)
    with db.session_scope(db_url) as s:
        assert s.scalars(select(Activity)).all() == []
