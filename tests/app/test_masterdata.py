"""Importing and exporting master data: validate everything first, upsert by id, round trip."""

import csv
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from carecal import db
from carecal.errors import InputError
from carecal.masterdata import export_file, import_file, load_organisation
from carecal.masterdata.districts import centroid
from carecal.masterdata.entities import RECORD_OF
from carecal.masterdata.layout import LAYOUTS
from carecal.masterdata.paths import DATA_DIR
from carecal.models import Absence, AuditEvent, CareRequest, Client, Insurer, Override, Rate, Volunteer

CLIENTS = [
    {
        "external_id": "c001",
        "first_name": "Raissa",
        "last_name": "Petrowa",
        "date_of_birth": "1941-05-09",
        "district": "Markersdorf",
        "lat": "50.7942",
        "lon": "12.9321",
        "languages": "ru; de",
        "dementia": "yes",
        "care_grades": "2:2023-04-01; 3:2025-02-01",
        "insurance_number": "A123456789",
        "conversion_budget_opt_in": "yes",
    },
    {
        "external_id": "c002",
        "first_name": "Olena",
        "last_name": "Kowalenko",
        "date_of_birth": "1938-11-30",
        "district": "Zentrum",
        "lat": "",
        "lon": "",
        "languages": "uk",
        "dementia": "no",
        "care_grades": "1:2024-01-01",
        "insurance_number": "",
        "conversion_budget_opt_in": "no",
    },
]
VOLUNTEERS = [
    {
        "external_id": "v001",
        "first_name": "Natalja",
        "last_name": "Iwanowa",
        "gender": "f",
        "district": "Gablenz",
        "lat": "50.8244",
        "lon": "12.9577",
        "languages": "ru; de",
        "travel_mode": "transit",
        "max_km": "6",
        "max_minutes_per_week": "480",
        "availability": "mon 09:00-13:00; wed 14:00-18:00",
        "trainings": "basic:2024-03-01:2027-02-28; dementia:2025-01-10:",
        "absences": "2026-11-23..2026-11-24",
        "must_not_visit": "c001:relative",
    },
    {
        "external_id": "v002",
        "first_name": "Dieter",
        "last_name": "Uhlig",
        "gender": "m",
        "district": "Kaßberg",
        "lat": "50.8350",
        "lon": "12.9050",
        "languages": "de",
        "travel_mode": "bike",
        "max_km": "7,5",
        "max_minutes_per_week": "600",
        "availability": "tue 08:00-18:00",
        "trainings": "basic:2025-06-01:",
        "absences": "",
        "must_not_visit": "",
    },
]
REQUESTS = [
    {
        "external_id": "c001-1",
        "client_id": "c001",
        "activity": "conversation_walk",
        "duration_min": "120",
        "visits_per_week": "2",
        "windows": "tue 13:00-18:00; thu 13:00-18:00",
        "valid_from": "2025-01-01",
    },
]


def write(path: Path, rows: list[dict]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def import_all(s, tmp_path, clients=CLIENTS, volunteers=VOLUNTEERS, requests=REQUESTS, dry_run=False):
    load_organisation(s, DATA_DIR / "organisation.json", actor="coordinator")  # requests need its prices
    return [
        import_file(s, "clients", write(tmp_path / "clients.csv", clients), actor="coordinator", dry_run=dry_run),
        import_file(
            s, "volunteers", write(tmp_path / "volunteers.csv", volunteers), actor="coordinator", dry_run=dry_run
        ),
        import_file(s, "requests", write(tmp_path / "requests.csv", requests), actor="coordinator", dry_run=dry_run),
    ]


def count(s, model) -> int:
    return s.scalar(select(func.count()).select_from(model))


def test_import_creates_everything_and_a_second_import_changes_nothing(db_url, tmp_path):
    with db.session_scope(db_url) as s:
        reports = import_all(s, tmp_path)
    assert [len(r.created) for r in reports] == [2, 2, 1]

    with db.session_scope(db_url) as s:
        v = s.scalars(select(Volunteer).where(Volunteer.external_id == "v001")).one()
        assert v.languages == ["ru", "de"]
        assert [(w.weekday, w.start.hour, w.end.hour) for w in v.availability] == [(0, 9, 13), (2, 14, 18)]
        assert [(t.kind, t.expires_on) for t in v.trainings][1] == ("dementia", None)
        # whole local days: Monday 00:00 to Wednesday 00:00 in Berlin
        assert [(a.starts_at, a.ends_at) for a in v.absences] == [
            (datetime(2026, 11, 22, 23, tzinfo=UTC), datetime(2026, 11, 24, 23, tzinfo=UTC))
        ]
        assert [(e.client.external_id, e.kind) for e in v.exclusions] == [("c001", "relative")]
        assert s.scalars(select(Volunteer.max_km).where(Volunteer.external_id == "v002")).one() == 7.5
        c = s.scalars(select(Client).where(Client.external_id == "c001")).one()
        assert [(g.grade, g.valid_from.year) for g in c.care_grades] == [(2, 2023), (3, 2025)]
        r = s.scalars(select(CareRequest)).one()
        assert r.windows == [
            {"day": "tue", "from": "13:00", "to": "18:00"},
            {"day": "thu", "from": "13:00", "to": "18:00"},
        ]
        assert (r.visits_per_week, r.priority, r.category) == (2, 1, "betreuung")

    with db.session_scope(db_url) as s:
        again = import_all(s, tmp_path)
    assert [(len(r.created), len(r.updated), len(r.unchanged)) for r in again] == [(0, 0, 2), (0, 0, 2), (0, 0, 1)]


def test_an_import_records_counts_in_the_audit_log_but_no_personal_values(db_url, tmp_path):
    with db.session_scope(db_url) as s:
        import_all(s, tmp_path)
    with db.session_scope(db_url) as s:
        events = {e.action: e for e in s.scalars(select(AuditEvent))}
    event = events["masterdata.import.clients"]
    assert event.actor == "coordinator"
    assert (event.payload["created"], event.payload["updated"], event.payload["unchanged"]) == (2, 0, 0)
    assert event.payload["created_ids"] == ["c001", "c002"]
    text = str(event.payload)
    for personal in ("Petrowa", "1941-05-09", "A123456789", "Markersdorf"):
        assert personal not in text

    changed = [{**CLIENTS[0], "dementia": "no", "phone": "0371 1"}, CLIENTS[1]]
    with db.session_scope(db_url) as s:
        import_file(s, "clients", write(tmp_path / "c.csv", changed), actor="coordinator")
    with db.session_scope(db_url) as s:
        event = s.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert event.payload["updated_columns"] == {"c001": ["phone", "(health data)"]}


def test_one_bad_row_writes_nothing_and_every_problem_is_named(db_url, tmp_path):
    bad_clients = [
        CLIENTS[0],
        {**CLIENTS[1], "languages": "uk; xx", "date_of_birth": "1938-02-30", "district": "Atlantis"},
        {
            **CLIENTS[1],
            "external_id": "c001",
            "care_grades": "9:2020-01-01",
            "dementia": "vielleicht",
            "insurance_number": "98765",
        },
    ]
    with pytest.raises(InputError) as caught, db.session_scope(db_url) as s:
        import_file(s, "clients", write(tmp_path / "clients.csv", bad_clients), actor="coordinator")
    problems = caught.value.problems
    assert "nothing was imported" in str(caught.value)
    # Rows are numbered as in a spreadsheet: the header is row 1.
    assert any("row 3, column languages, value 'uk; xx'" in p for p in problems)
    assert any("row 3, column district, value 'Atlantis'" in p for p in problems)
    assert any(p.startswith("clients.csv row 3, column date_of_birth, value (hidden: health data)") for p in problems)
    assert any("row 4, column external_id" in p and "already in row 2" in p for p in problems)
    for column in ("care_grades", "dementia", "insurance_number"):
        assert any(f"row 4, column {column}, value (hidden: health data)" in p for p in problems)
    # health values never appear in the report
    report = str(caught.value)
    for secret in ("1938-02-30", "9:2020-01-01", "vielleicht", "98765"):
        assert secret not in report
    with db.session_scope(db_url) as s:
        assert count(s, Client) == 0
        assert count(s, AuditEvent) == 0


def test_unknown_and_missing_columns_are_reported_before_any_row(db_url, tmp_path):
    rows = [{k: v for k, v in VOLUNTEERS[1].items() if k != "gender"} | {"lanugages": "de"}]
    with pytest.raises(InputError) as caught, db.session_scope(db_url) as s:
        import_file(s, "volunteers", write(tmp_path / "v.csv", rows), actor="coordinator")
    assert any("column lanugages: unknown column" in p for p in caught.value.problems)
    assert any("column gender: required column is missing" in p for p in caught.value.problems)


def test_references_must_name_known_clients(db_url, tmp_path):
    with pytest.raises(InputError) as caught, db.session_scope(db_url) as s:
        import_file(s, "volunteers", write(tmp_path / "v.csv", VOLUNTEERS), actor="coordinator")
    assert any("row 2, column must_not_visit" in p and "client c001 is unknown" in p for p in caught.value.problems)
    with pytest.raises(InputError, match="unknown client"), db.session_scope(db_url) as s:
        import_file(s, "requests", write(tmp_path / "r.csv", REQUESTS), actor="coordinator")


def test_rule_checks_across_columns(db_url, tmp_path):
    with db.session_scope(db_url) as s:
        load_organisation(s, DATA_DIR / "organisation.json", actor="coordinator")
        import_file(s, "clients", write(tmp_path / "c.csv", CLIENTS), actor="coordinator")
    short_window = [{**REQUESTS[0], "windows": "tue 13:00-14:00", "valid_to": "2024-12-31"}]
    with pytest.raises(InputError) as caught, db.session_scope(db_url) as s:
        import_file(s, "requests", write(tmp_path / "r.csv", short_window), actor="coordinator")
    assert any("tue window is 60 min, shorter than one visit (120 min)" in p for p in caught.value.problems)
    assert any("column valid_to" in p and "before valid_from" in p for p in caught.value.problems)

    grade_one_opt_in = [{**CLIENTS[1], "conversion_budget_opt_in": "yes"}]
    with pytest.raises(InputError, match="care grade of 2 or higher"), db.session_scope(db_url) as s:
        import_file(s, "clients", write(tmp_path / "c.csv", grade_one_opt_in), actor="coordinator")

    swapped = [{**VOLUNTEERS[1], "lat": "12.905", "lon": "50.835"}]
    with pytest.raises(InputError, match="lat and lon swapped"), db.session_scope(db_url) as s:
        import_file(s, "volunteers", write(tmp_path / "v.csv", swapped), actor="coordinator")


def test_missing_coordinates_take_the_district_centre_and_are_flagged(db_url, tmp_path):
    with db.session_scope(db_url) as s:
        import_file(s, "clients", write(tmp_path / "c.csv", CLIENTS), actor="coordinator")
    with db.session_scope(db_url) as s:
        c = s.scalars(select(Client).where(Client.external_id == "c002")).one()
        assert (c.lat, c.lon) == centroid("Zentrum")
        assert c.location_approximate
        exact = s.scalars(select(Client).where(Client.external_id == "c001")).one()
        assert not exact.location_approximate
    no_district = [{**CLIENTS[1], "district": ""}]
    with pytest.raises(InputError, match="column district, value '': needed when lat/lon are empty"):
        with db.session_scope(db_url) as s:
            import_file(s, "clients", write(tmp_path / "c.csv", no_district), actor="coordinator")


def test_dry_run_reports_what_would_change_and_writes_nothing(db_url, tmp_path):
    with db.session_scope(db_url) as s:
        import_all(s, tmp_path)
    changed = [
        {**VOLUNTEERS[0], "phone": "0371 123456", "availability": "fri 09:00-12:00"},
        VOLUNTEERS[1],
        {**VOLUNTEERS[1], "external_id": "v003", "first_name": "Uwe"},
    ]
    with db.session_scope(db_url) as s:
        report = import_file(s, "volunteers", write(tmp_path / "v.csv", changed), actor="c", dry_run=True)
    assert report.created == ["v003"]
    assert report.updated == {"v001": ["phone", "availability"]}
    assert report.unchanged == ["v002"]
    assert "would be created" in report.summary()
    with db.session_scope(db_url) as s:
        assert count(s, Volunteer) == 2
        assert s.scalars(select(Volunteer.phone).where(Volunteer.external_id == "v001")).one() is None
        assert count(s, AuditEvent) == 4  # the organisation and the three real imports, not the dry run


def test_an_update_changes_only_its_columns_and_keeps_what_overrides_created(db_url, tmp_path):
    with db.session_scope(db_url) as s:
        import_all(s, tmp_path)
        v = s.scalars(select(Volunteer).where(Volunteer.external_id == "v001")).one()
        ill = Override(
            kind="absence",
            volunteer=v,
            reason="ill",
            actor="coordinator",
            starts_at=datetime(2026, 12, 1, 7, tzinfo=UTC),
            ends_at=datetime(2026, 12, 1, 15, tzinfo=UTC),
        )
        s.add(ill)
        s.flush()
        s.add(Absence(volunteer=v, starts_at=ill.starts_at, ends_at=ill.ends_at, override_id=ill.id))
    # The file now has no absences for v001 and a new phone number.
    changed = [{**VOLUNTEERS[0], "absences": "", "phone": "0371 555"}, VOLUNTEERS[1]]
    with db.session_scope(db_url) as s:
        report = import_file(s, "volunteers", write(tmp_path / "v.csv", changed), actor="coordinator")
    assert report.updated == {"v001": ["phone", "absences"]}
    with db.session_scope(db_url) as s:
        v = s.scalars(select(Volunteer).where(Volunteer.external_id == "v001")).one()
        assert v.phone == "0371 555"
        assert [a.override_id is not None for a in v.absences] == [True]
        assert len(v.availability) == 2 and len(v.exclusions) == 1


def test_columns_left_out_of_the_file_are_left_alone(db_url, tmp_path):
    with db.session_scope(db_url) as s:
        import_all(s, tmp_path)
    slim = [
        {k: v for k, v in row.items() if k not in ("availability", "trainings", "absences", "must_not_visit")}
        | {"max_minutes_per_week": "300"}
        for row in VOLUNTEERS
    ]
    with db.session_scope(db_url) as s:
        report = import_file(s, "volunteers", write(tmp_path / "v.csv", slim), actor="coordinator")
    assert report.updated == {"v001": ["max_minutes_per_week"], "v002": ["max_minutes_per_week"]}
    with db.session_scope(db_url) as s:
        v = s.scalars(select(Volunteer).where(Volunteer.external_id == "v001")).one()
        assert (len(v.availability), len(v.trainings), len(v.absences), len(v.exclusions)) == (2, 2, 1, 1)


def test_a_file_without_home_columns_may_update_but_not_create(db_url, tmp_path):
    with db.session_scope(db_url) as s:
        import_all(s, tmp_path)
    required = (
        "external_id",
        "first_name",
        "last_name",
        "gender",
        "languages",
        "travel_mode",
        "max_km",
        "max_minutes_per_week",
    )
    slim = [{k: row[k] for k in required} | {"phone": "0371 999"} for row in VOLUNTEERS]
    with db.session_scope(db_url) as s:
        report = import_file(s, "volunteers", write(tmp_path / "v.csv", slim), actor="coordinator")
    assert report.updated == {"v001": ["phone"], "v002": ["phone"]}
    newcomer = slim + [{**slim[1], "external_id": "v003"}]
    with pytest.raises(InputError, match="row 4, column district, value '': a new row needs lat/lon or a district"):
        with db.session_scope(db_url) as s:
            import_file(s, "volunteers", write(tmp_path / "v.csv", newcomer), actor="coordinator")


def snapshot(s) -> dict:
    return {
        kind: [
            RECORD_OF[kind](obj, LAYOUTS[kind].names) for obj in s.scalars(select(model).order_by(model.external_id))
        ]
        for kind, model in (("clients", Client), ("volunteers", Volunteer), ("requests", CareRequest))
    }


def test_the_demo_data_round_trips_through_csv_and_xlsx(db_url, tmp_path):
    files = {"clients": "clients.csv", "volunteers": "volunteers.csv", "requests": "care_requests.csv"}
    with db.session_scope(db_url) as s:
        load_organisation(s, DATA_DIR / "organisation.json", actor="coordinator")
        for kind, name in files.items():
            import_file(s, kind, DATA_DIR / name, actor="coordinator")
    with db.session_scope(db_url) as s:
        before = snapshot(s)
        for kind, name in files.items():
            export_file(s, kind, tmp_path / name)
            export_file(s, kind, tmp_path / f"{kind}.xlsx")
    for name in files.values():  # the export is byte for byte the committed file, but for the masked IBANs
        committed = (DATA_DIR / name).read_text(encoding="utf-8")
        assert (tmp_path / name).read_text(encoding="utf-8") == re.sub(
            r"\b(DE\d\d)\d{14}(\d{4})\b", r"\1 **** \2", committed
        )
    with db.session_scope(db_url) as s:
        for kind in files:
            report = import_file(s, kind, tmp_path / f"{kind}.xlsx", actor="coordinator")
            assert (report.created, report.updated) == ([], {}), kind
    with db.session_scope(db_url) as s:
        assert snapshot(s) == before


def test_organisation_and_rates_load_once(db_url):
    for _ in range(2):
        with db.session_scope(db_url) as s:
            org = load_organisation(s, DATA_DIR / "organisation.json", actor="coordinator")
    with db.session_scope(db_url) as s:
        rates = {(r.kind, r.key, r.valid_from.isoformat()): r.amount_cents for r in s.scalars(select(Rate))}
    assert org.timezone == "Europe/Berlin"
    assert (org.tax_number, org.iban, org.bic, org.payment_term_days) == (
        "215/140/01234",
        "DE89370400440532013000",
        "COBADEFFXXX",
        14,
    )
    assert rates[("relief_amount_month", None, "2025-01-01")] == 13100
    assert rates[("conversion_max_month", "5", "2025-01-01")] == 91960
    assert rates[("tax_free_limit_year", "3_26", "2026-01-01")] == 330000
    assert len(rates) == 16


def test_overlapping_rates_are_refused(db_url, tmp_path):
    doc = (
        '{"name": "V", "ik": "123456789", "street": "s", "postcode": "09111", "city": "Chemnitz", "rates": ['
        '{"kind": "allowance_per_hour", "amount_cents": 900, "valid_from": "2025-01-01"},'
        '{"kind": "allowance_per_hour", "amount_cents": 950, "valid_from": "2026-01-01"}]}'
    )
    (tmp_path / "org.json").write_text(doc, encoding="utf-8")
    with pytest.raises(InputError, match="allowance_per_hour rates from 2025-01-01 and 2026-01-01 overlap"):
        with db.session_scope(db_url) as s:
            load_organisation(s, tmp_path / "org.json", actor="coordinator")


def test_invoice_details_of_the_organisation_are_checked(db_url, tmp_path):
    doc = (
        '{"name": "V", "ik": "123456789", "street": "s", "postcode": "09111", "city": "Chemnitz", '
        '"iban": "DE89 3704 0044 0532 0130 01", "bic": "COBA", "tax_number": "abc", "payment_term_days": "14"}'
    )
    (tmp_path / "org.json").write_text(doc, encoding="utf-8")
    with pytest.raises(InputError) as raised, db.session_scope(db_url) as s:
        load_organisation(s, tmp_path / "org.json", actor="coordinator")
    problems = "\n".join(raised.value.problems)
    assert "not a valid IBAN: its check digits do not match" in problems and "is not a BIC" in problems
    assert "not a Steuernummer" in problems and "payment_term_days must be a whole number" in problems


def test_the_insurers_postal_addresses_load_by_ik_and_bad_ones_are_named(db_url, tmp_path):
    with db.session_scope(db_url) as s:
        load_organisation(s, DATA_DIR / "organisation.json", actor="coordinator")
        aok = s.scalars(select(Insurer).where(Insurer.ik == "107299005")).one()
        assert (aok.name, aok.street, aok.postcode) == ("AOK PLUS Pflegekasse", "Sternplatz 7", "01067")
        assert len(s.scalars(select(Insurer)).all()) == 5
    doc = (
        '{"name": "V", "ik": "123456789", "street": "s", "postcode": "09111", "city": "Chemnitz", "insurers": ['
        '{"ik": "107299005", "name": "AOK PLUS Pflegekasse", "street": "Neue Str. 1", "postcode": "01069", '
        '"city": "Dresden"},'
        '{"ik": "10729900", "name": "Kurz", "street": "s", "postcode": "1234", "city": "c"},'
        '{"ik": "107299005", "name": "Doppelt", "street": "s", "postcode": "01069", "city": "c"},'
        '{"ik": "101575519", "name": "Ohne Ort", "street": "s", "postcode": "22305"}]}'
    )
    (tmp_path / "org.json").write_text(doc, encoding="utf-8")
    with pytest.raises(InputError) as raised, db.session_scope(db_url) as s:
        load_organisation(s, tmp_path / "org.json", actor="coordinator")
    assert raised.value.problems == [
        "org.json: insurers[1].ik: '10729900' is not 9 digits",
        "org.json: insurers[1].postcode: '1234' is not a German postcode of 5 digits",
        "org.json: insurers[2].ik: 107299005 appears twice",
        "org.json: insurers[3]: city missing (text)",
    ]
    (tmp_path / "org.json").write_text(doc.split(',{"ik": "10729900"')[0] + "]}", encoding="utf-8")
    with db.session_scope(db_url) as s:  # a new address replaces the old one; the others stay
        load_organisation(s, tmp_path / "org.json", actor="coordinator")
        aok = s.scalars(select(Insurer).where(Insurer.ik == "107299005")).one()
        assert (aok.street, aok.postcode) == ("Neue Str. 1", "01069") and len(s.scalars(select(Insurer)).all()) == 5


def test_xlsx_cells_typed_by_a_spreadsheet_are_understood(db_url, tmp_path):
    """Dates as date cells, numbers as numbers, a postcode whose leading zero Excel dropped."""
    from datetime import date

    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    header = list(CLIENTS[0])
    sheet.append(header + ["postcode", "consent_recorded_on"])
    row = {**CLIENTS[0], "date_of_birth": date(1941, 5, 9), "lat": 50.7942, "lon": 12.9321}
    sheet.append([row[k] for k in header] + [9123, datetime(2025, 3, 1)])
    workbook.save(tmp_path / "clients.xlsx")
    with db.session_scope(db_url) as s:
        import_file(s, "clients", tmp_path / "clients.xlsx", actor="coordinator")
    with db.session_scope(db_url) as s:
        c = s.scalars(select(Client)).one()
        assert (c.date_of_birth, c.postcode, c.lat) == (date(1941, 5, 9), "09123", 50.7942)
        assert c.consent_recorded_on == date(2025, 3, 1)


def test_cells_that_look_like_formulas_are_exported_inert_and_read_back_unchanged(db_url, tmp_path):
    from openpyxl import load_workbook

    sneaky = [{**VOLUNTEERS[1], "first_name": '=HYPERLINK("http://x.example","Uwe")', "phone": "+49 371 555"}]
    with db.session_scope(db_url) as s:
        import_file(s, "volunteers", write(tmp_path / "v.csv", sneaky), actor="coordinator")
        export_file(s, "volunteers", tmp_path / "out.csv")
        export_file(s, "volunteers", tmp_path / "out.xlsx")
    text = (tmp_path / "out.csv").read_text(encoding="utf-8")
    assert "'=HYPERLINK" in text and "'+49 371 555" in text
    cell = load_workbook(tmp_path / "out.xlsx").active["C2"]
    assert (cell.value, cell.data_type) == ('=HYPERLINK("http://x.example","Uwe")', "s")
    with db.session_scope(db_url) as s:
        for name in ("out.csv", "out.xlsx"):
            assert import_file(s, "volunteers", tmp_path / name, actor="coordinator").unchanged == ["v002"]


def test_a_clients_visits_per_day_default_to_one_and_are_imported_rule_10(db_url, tmp_path):
    twice = [CLIENTS[0] | {"max_visits_per_day": "2"}] + [row | {"max_visits_per_day": ""} for row in CLIENTS[1:]]
    with db.session_scope(db_url) as s:
        import_all(s, tmp_path, clients=twice)
    with db.session_scope(db_url) as s:
        by_id = {c.external_id: c.max_visits_per_day for c in s.scalars(select(Client))}
    assert by_id["c001"] == 2 and set(by_id.values()) - {2} == {1}
    bad = [CLIENTS[0] | {"max_visits_per_day": "0"}]
    with db.session_scope(db_url) as s, pytest.raises(InputError):
        import_file(s, "clients", write(tmp_path / "bad.csv", bad), actor="coordinator")
