"""What someone with write access to the database file or server could do: drop the
append-only triggers, then rewrite rows. Tests use it to prove the hash chains notice."""

from sqlalchemy import text
from sqlalchemy.orm import Session


def drop_guards(session: Session) -> list[str]:
    """Drop every trigger in the database (in the session's transaction); returns their names."""
    if session.get_bind().dialect.name == "postgresql":
        triggers = session.execute(
            text("SELECT tgname, tgrelid::regclass::text FROM pg_trigger WHERE NOT tgisinternal")
        ).all()
        for name, table in triggers:
            session.execute(text(f'DROP TRIGGER "{name}" ON "{table}"'))
        return [name for name, _ in triggers]
    names = session.scalars(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).all()
    for name in names:
        session.execute(text(f'DROP TRIGGER "{name}"'))
    return list(names)
