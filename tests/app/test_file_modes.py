"""Files only the office can read: every file carecal writes is 0600, every folder it
creates 0700, whatever the umask (carecal.private_files)."""

import ast
import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from carecal import audit, db, private_files

UMASKS = (0o000, 0o022, 0o777)  # permissive, the usual one, and one that would leave nothing


@pytest.fixture(params=UMASKS, ids=lambda m: f"umask{m:03o}")
def umask(request):
    previous = os.umask(request.param)
    yield request.param
    os.umask(previous)


@pytest.fixture
def permissive_umask():
    previous = os.umask(0)
    yield
    os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_folders_are_made_0700_and_files_0600_whatever_the_umask(tmp_path, umask):
    target = tmp_path / "exports" / "2026" / "hours.csv"
    private_files.write_text(target, "visit,client\n")
    assert mode(tmp_path / "exports") == 0o700 and mode(tmp_path / "exports" / "2026") == 0o700
    assert mode(target) == 0o600 and target.read_text() == "visit,client\n"
    assert (
        private_files.write_bytes(tmp_path / "exports" / "p.pdf", b"%PDF") and mode(tmp_path / "exports/p.pdf") == 0o600
    )


def test_a_folder_the_user_chose_is_left_as_it_is(tmp_path, permissive_umask):
    chosen = tmp_path / "shared"
    chosen.mkdir(mode=0o755)
    os.chmod(chosen, 0o755)
    private_files.write_text(chosen / "a.csv", "x")
    assert mode(chosen) == 0o755 and mode(chosen / "a.csv") == 0o600


def test_a_file_readable_by_others_is_replaced_by_a_private_one(tmp_path, permissive_umask):
    old = tmp_path / "hours.csv"
    old.write_text("old")
    os.chmod(old, 0o644)
    private_files.write_text(old, "new")
    assert mode(old) == 0o600 and old.read_text() == "new"


def test_a_failed_write_leaves_the_old_file_and_no_remnant(tmp_path):
    old = tmp_path / "hours.csv"
    private_files.write_text(old, "complete")
    with pytest.raises(RuntimeError), private_files.open_for_writing(old, text=True) as handle:
        handle.write("half")
        raise RuntimeError("disk full")
    assert old.read_text() == "complete" and sorted(p.name for p in tmp_path.iterdir()) == ["hours.csv"]


def test_a_new_database_and_its_journals_are_0600(tmp_path, umask):
    from carecal.cli.main import app

    path = tmp_path / "carecal.db"
    url = f"sqlite:///{path}"
    result = CliRunner().invoke(app, ["--db", url, "init"])
    assert result.exit_code == 0, result.stderr
    assert mode(path) == 0o600

    with db.session_scope(url, write=True) as s:  # WAL mode: the -wal and -shm files exist while it is open
        audit.record(s, "coordinator", "test.event", object_type="test", object_id=1)
        s.flush()
        for suffix in ("-wal", "-shm"):
            assert mode(path.with_name("carecal.db" + suffix)) == 0o600
    db.engine_for(url).dispose()


def test_an_existing_database_readable_by_others_is_made_private_when_opened(tmp_path, permissive_umask):
    path = tmp_path / "old.db"
    url = f"sqlite:///{path}"
    db.upgrade(url)
    db.engine_for(url).dispose()
    os.chmod(path, 0o644)
    with db.session_scope(url) as s:
        s.execute(text("SELECT 1"))
    assert mode(path) == 0o600
    db.engine_for(url).dispose()


def test_a_command_on_a_missing_database_still_creates_nothing(tmp_path):
    from carecal.cli.main import app

    path = tmp_path / "absent.db"
    result = CliRunner().invoke(app, ["--db", f"sqlite:///{path}", "volunteer", "list"])
    assert result.exit_code == 1 and not path.exists()


# Calls that create a file or folder, and the only places allowed to make them besides
# carecal.private_files: the repository's own docs (`make docs`) are not the office's
# data, and the XLSX writer saves into a handle that private_files opened. Saving into an
# in-memory buffer (`io.BytesIO()`) creates no file.
CREATING_CALLS = {"write_text", "write_bytes", "mkdir", "makedirs", "touch", "save", "mkstemp", "mkdtemp"}
ALLOWED = {("carecal/docs.py", "write_text"), ("carecal/docs.py", "mkdir"), ("carecal/tables.py", "save")}


def _in_memory_buffers(tree: ast.AST) -> set[str]:
    """Names assigned an `io.BytesIO()` or `io.StringIO()` anywhere in the module."""
    return {
        target.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
        for target in node.targets
        if isinstance(target, ast.Name)
        and getattr(node.value.func, "attr", getattr(node.value.func, "id", None)) in ("BytesIO", "StringIO")
    }


def _creates_files(call: ast.Call, buffers: set[str] = frozenset()) -> str | None:
    function = call.func
    if call.args and isinstance(call.args[0], ast.Name) and call.args[0].id in buffers:
        return None
    if isinstance(function, ast.Attribute) and getattr(function.value, "id", None) == "private_files":
        return None
    name = function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", None)
    if name in CREATING_CALLS:
        return name
    if name != "open":
        return None
    if isinstance(function, ast.Attribute) and getattr(function.value, "id", None) == "os":
        return "os.open"
    # open(file, mode) or path.open(mode)
    mode_at = 0 if isinstance(function, ast.Attribute) else 1
    modes = [a.value for a in call.args[mode_at : mode_at + 1] if isinstance(a, ast.Constant)]
    modes += [k.value.value for k in call.keywords if k.arg == "mode" and isinstance(k.value, ast.Constant)]
    return "open" if any(isinstance(m, str) and set(m) & set("wax+") for m in modes) else None


def test_only_private_files_creates_files():
    root = Path(private_files.__file__).parent.parent
    found = []
    for path in sorted((root / "carecal").rglob("*.py")):
        where = path.relative_to(root).as_posix()
        if where == "carecal/private_files.py" or "/migrations/" in where:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        buffers = _in_memory_buffers(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and (kind := _creates_files(node, buffers)) and (where, kind) not in ALLOWED:
                found.append(f"{where}:{node.lineno} {kind}")
    assert found == [], f"write files through carecal.private_files: {found}"
