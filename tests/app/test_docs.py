"""The CLI reference cannot go stale: docs/cli.md must be what the commands' --help says."""

import re

from carecal import docs


def test_every_command_is_documented_in_docs_cli_md():
    committed = docs.CLI_MD.read_text(encoding="utf-8")
    documented = set(re.findall(r"^## (carecal.*)$", committed, flags=re.M))
    missing = sorted(" ".join(path) for path in docs.command_paths() if " ".join(path) not in documented)
    assert missing == [], f"undocumented commands {missing}: run `make docs` and commit docs/cli.md"


def test_docs_cli_md_is_the_current_help_text():
    assert docs.CLI_MD.read_text(encoding="utf-8") == docs.render(), (
        "docs/cli.md differs from the commands' --help: run `make docs` and commit docs/cli.md"
    )


def test_the_reference_is_plain_text():
    text = docs.render()
    assert "\x1b[" not in text
    assert "╭" not in text and "│" not in text  # no Rich panels
    assert text.count("## carecal") == len(docs.command_paths())


def test_every_command_the_readme_shows_exists():
    assert docs.unknown_readme_commands(docs.README.read_text(encoding="utf-8")) == []


def test_readme_check_spots_commands_that_do_not_exist():
    text = """
Run `carecal volunteer list` or `carecal --db sqlite:///x.db client show c001`.

```sh
carecal import volunteers data/volunteers.csv --dry-run
carecal volunteer frobnicate v001
carecal teleport
```
"""
    assert docs.readme_commands(text)[:2] == [
        ("volunteer", "list"),
        ("--db", "sqlite:///x.db", "client", "show", "c001"),
    ]
    assert docs.unknown_readme_commands(text) == [
        "`carecal volunteer frobnicate v001`: carecal has no command 'carecal volunteer frobnicate'",
        "`carecal teleport`: carecal has no command 'carecal teleport'",
    ]


def test_data_readme_documents_every_import_column():
    from carecal.masterdata.layout import LAYOUTS

    readme = (docs.ROOT / "data" / "README.md").read_text(encoding="utf-8")
    undocumented = [
        f"{kind}.{name}" for kind, layout in LAYOUTS.items() for name in layout.names if f"`{name}`" not in readme
    ]
    assert undocumented == []
