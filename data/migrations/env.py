"""Alembic environment: runs on the connection handed over by data.db.upgrade_database, or on
DATABASE_URL / the default SQLite file when called from the alembic command line."""

from alembic import context

from data.db import make_engine
from data.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run_migrations(connection)
else:
    with make_engine().begin() as own_connection:
        run_migrations(own_connection)
