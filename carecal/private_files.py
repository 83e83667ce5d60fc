"""Every file and folder carecal creates is made here: files 0600, folders 0700, whatever
the umask. The database, the exports, the proofs of service and the calendars hold
special-category data (Art. 9 GDPR): only the office's own user account may read them.

- `make_dir` creates a folder and its missing parents 0700. A folder that already exists
  is left as it is: the user chose it (and the files in it are 0600 anyway).
- `open_for_writing` writes a whole file into a private temporary file beside it and
  renames it over the target at the end: the file appears 0600 and complete, or not at
  all (an error leaves the old file as it was).
- `prepare_sqlite_file` makes a SQLite database file 0600 before SQLite opens it; SQLite
  gives its -journal, -wal and -shm files the database file's mode.
"""

import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, Any

FILE_MODE = 0o600
DIR_MODE = 0o700
SQLITE_COMPANIONS = ("-journal", "-wal", "-shm")


def make_dir(path: Path) -> Path:
    """`path` as a folder: created with its missing parents, each 0700."""
    missing = []
    folder = Path(path)
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=DIR_MODE)
        except FileExistsError:  # made meanwhile by a concurrent writer: theirs to set
            continue
        os.chmod(folder, DIR_MODE)  # mkdir's mode is filtered by the umask
    return path


@contextmanager
def open_for_writing(path: Path, *, text: bool = False, newline: str | None = None) -> Iterator[IO]:
    """A new file at `path` (0600), written through the handle this yields: binary, or
    UTF-8 text with `text=True`."""
    path = Path(path)
    make_dir(path.parent)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        os.fchmod(descriptor, FILE_MODE)
        handle: IO[Any]
        if text:
            handle = os.fdopen(descriptor, "w", encoding="utf-8", newline=newline)
        else:
            handle = os.fdopen(descriptor, "wb")
        with handle:
            yield handle
        os.replace(temporary, path)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def write_bytes(path: Path, data: bytes) -> Path:
    with open_for_writing(path) as handle:
        handle.write(data)
    return path


def write_text(path: Path, content: str) -> Path:
    with open_for_writing(path, text=True, newline="") as handle:
        handle.write(content)
    return path


def prepare_sqlite_file(path: Path) -> None:
    """Create the database file 0600 if it is missing, and take group and other access
    away from it and its companion files if they have any (and are ours to change)."""
    path = Path(path)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except (FileExistsError, FileNotFoundError):  # there already, or no folder: SQLite says so
        pass
    else:
        os.fchmod(descriptor, FILE_MODE)  # the mode os.open gives is filtered by the umask
        os.close(descriptor)
    for candidate in (path, *(path.with_name(path.name + suffix) for suffix in SQLITE_COMPANIONS)):
        with suppress(FileNotFoundError, PermissionError):
            if stat.S_IMODE(candidate.stat().st_mode) & 0o077:
                os.chmod(candidate, FILE_MODE)
