"""Alembic's environment: online migrations only, under an advisory lock so two replicas never race."""

from alembic import context
from sqlalchemy import create_engine, text

from services.notify.adapters.postgres.tables import metadata

MIGRATION_LOCK = 0x57A59ADA
"""pg_advisory_xact_lock key: replicas starting together migrate one after the other."""


def run_online() -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    assert url, "sqlalchemy.url is set by services.notify.adapters.postgres.migrate"
    engine = create_engine(url)
    with engine.connect() as connection, connection.begin():
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        context.configure(connection=connection, target_metadata=metadata, transaction_per_migration=False)
        context.run_migrations()
    engine.dispose()


run_online()
