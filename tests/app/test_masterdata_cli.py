"""The master data commands: exit codes, one error report on stderr, Rich tables."""

import csv
import io

from carecal.masterdata.paths import DATA_DIR


def import_demo(cli):
    assert cli("import", "organisation", DATA_DIR / "organisation.json").exit_code == 0  # prices, catalogue
    for kind, name in (("clients", "clients.csv"), ("volunteers", "volunteers.csv"), ("requests", "care_requests.csv")):
        result = cli("import", kind, DATA_DIR / name)
        assert result.exit_code == 0, result.stderr


def test_import_reports_counts_and_a_second_run_changes_nothing(cli):
    result = cli("import", "clients", DATA_DIR / "clients.csv")
    assert result.exit_code == 0, result.stderr
    assert "120 rows: 120 created, 0 updated, 0 unchanged" in result.stdout
    again = cli("import", "clients", DATA_DIR / "clients.csv", "--dry-run")
    assert "0 would be created, 0 would be updated, 120 unchanged" in again.stdout
    assert "dry run: nothing was written" in again.stdout


def test_a_bad_file_exits_2_with_one_report_on_stderr(cli, tmp_path):
    bad = tmp_path / "clients.csv"
    bad.write_text(
        "external_id;first_name;last_name;date_of_birth;languages;district\n"
        "c1;Anna;Berg;1940-01-01;de;Zentrum\n"
        "c2;Ina;;1999-99-99;de;Zentrum\n",
        encoding="utf-8",
    )  # semicolons, as German Excel writes
    result = cli("import", "clients", bad)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "clients.csv: 2 problem(s) in 1 row(s); nothing was imported" in result.stderr
    assert "clients.csv row 3, column last_name, value '': required, but empty" in result.stderr
    assert "row 3, column date_of_birth, value (hidden: health data)" in result.stderr
    assert "1999-99-99" not in result.stderr
    assert "Traceback" not in result.stderr
    assert cli("client", "list").stdout.startswith("0 clients")


def test_export_to_standard_output_is_the_import_layout(cli):
    import_demo(cli)
    result = cli("export", "requests")
    assert result.exit_code == 0
    assert result.stdout == (DATA_DIR / "care_requests.csv").read_text(encoding="utf-8")


def test_export_xlsx_needs_a_file_and_writes_one(cli, tmp_path):
    import_demo(cli)
    assert cli("export", "volunteers", "--format", "xlsx").exit_code == 2
    result = cli("export", "volunteers", "-o", tmp_path / "v.xlsx")
    assert result.exit_code == 0 and "wrote 45 volunteers" in result.stdout
    assert "45 unchanged" in cli("import", "volunteers", tmp_path / "v.xlsx", "--dry-run").stdout


def test_volunteer_list_and_show(cli):
    import_demo(cli)
    rows = list(csv.DictReader(io.StringIO((DATA_DIR / "volunteers.csv").read_text(encoding="utf-8"))))
    active = [r for r in rows if r["active"] == "yes"]
    listing = cli("volunteer", "list", "--on", "2026-11-25")
    assert listing.stdout.startswith(f"{len(active)} volunteers")
    assert cli("volunteer", "list", "--all").stdout.startswith(f"{len(rows)} volunteers")
    first = rows[0]
    shown = cli("volunteer", "show", first["external_id"], "--on", "2026-11-25")
    assert shown.exit_code == 0
    assert f"{first['first_name']} {first['last_name']}" in shown.stdout
    assert "Trainings" in shown.stdout
    missing = cli("volunteer", "show", "v999")
    assert missing.exit_code == 3 and "no volunteer with id 'v999'" in missing.stderr


def test_client_list_hides_health_data_and_show_has_it(cli):
    import_demo(cli)
    listing = cli("client", "list", "--district", "Zentrum")
    assert listing.exit_code == 0
    assert "dementia" not in listing.stdout.lower() and "grade" not in listing.stdout.lower()
    shown = cli("client", "show", "c001")
    assert shown.exit_code == 0
    for label in ("born", "dementia", "care grade", "insurance number", "Care requests"):
        assert label in shown.stdout
