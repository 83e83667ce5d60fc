"""Alembic environment: migrations run inside one transaction per upgrade, on SQLite in
batch mode so that ALTERs work there too."""

from alembic import context

from carecal.db import engine_for
from carecal.models import Base

config = context.config
url = config.get_main_option("sqlalchemy.url")


def run_migrations_online() -> None:
    with engine_for(url).connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations_online()
