"""Alembic environment: migrations run inside one transaction per upgrade, on SQLite in
batch mode so that ALTERs work there too.

SQLite alters a table by building a new one and dropping the old, while other tables still
point at it; so on SQLite foreign keys are switched off while the migrations run and the
whole database is checked once at the end (`PRAGMA foreign_key_check`) before the commit.
"""

from alembic import context
from sqlalchemy import Connection

from carecal.db import engine_for
from carecal.models import Base

config = context.config
url = config.get_main_option("sqlalchemy.url")


def _foreign_keys(connection: Connection, on: bool) -> None:
    # A PRAGMA outside any transaction: straight on the driver's connection (autocommit).
    driver = connection.connection.driver_connection
    assert driver is not None  # an open connection
    driver.execute(f"PRAGMA foreign_keys = {'ON' if on else 'OFF'}")


def run_migrations_online() -> None:
    with engine_for(url).connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            _foreign_keys(connection, False)
        try:
            context.configure(
                connection=connection,
                target_metadata=Base.metadata,
                render_as_batch=sqlite,
                compare_type=True,
            )
            with context.begin_transaction():
                context.run_migrations()
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(f"the migration left rows pointing nowhere: {broken[:5]}")
            connection.commit()
        finally:
            if sqlite:
                _foreign_keys(connection, True)


run_migrations_online()
