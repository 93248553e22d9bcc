"""The schema comes from the migrations alone, matches the tables the code queries, and applies twice safely."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from services.notify.adapters.postgres import migrate
from services.notify.adapters.postgres.tables import metadata
from tests.records.conftest import Server


def test_the_migrated_schema_is_the_schema_the_code_queries(database_url: str) -> None:
    engine = create_engine(database_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
        tables = set(inspect(conn).get_table_names())
    engine.dispose()
    assert diff == [], f"tables.py and the migrations differ (write a migration): {diff}"
    assert {"escalation_revisions", "incidents", "incident_offices", "delivery_attempts", "officer_actions"} <= tables
    assert {"daily_counts", "counted_events", "alembic_version"} <= tables


def test_upgrading_again_and_from_two_processes_changes_nothing(pg_server: Server) -> None:
    url = pg_server.fresh("template0")  # an empty database: the migrations build everything
    migrate.upgrade(url)
    migrate.upgrade(url)  # a second replica starting, or a restart
    engine = create_engine(url)
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalars().all() == ["0001"]
    engine.dispose()
