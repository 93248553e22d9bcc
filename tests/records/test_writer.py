"""The delivery path's records never wait for PostgreSQL: deferred to Valkey while it is away, written once back."""

from datetime import UTC, datetime
from pathlib import Path

from redis.asyncio import Redis
from sqlalchemy import func, select

from devstack import postgres
from devstack.processes import free_port
from services.common import valkey_keys
from services.notify.adapters.postgres import migrate, store
from services.notify.adapters.postgres.tables import delivery_attempts, incident_offices
from services.notify.adapters.postgres.writer import Writer
from tests.records.test_backfill import redis, valkey_port  # noqa: F401 (fixtures)
from tests.records.test_store import _esc

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def _attempt(n: int) -> store.Attempt:
    return store.Attempt(
        f"msg_{n}", 1, "esc_inc_a_1", "polres-serang", "webhook", "jurisdiction", 0, "delivered", "200", T0
    )


async def test_records_wait_in_valkey_while_postgres_is_away_and_are_written_once_back(
    redis: Redis,  # noqa: F811
    pg_dir: Path,
) -> None:
    port = free_port()
    server = postgres.server(port, pg_dir / "data", log=pg_dir / "pg.log", durable=True).start()
    server.wait_until(lambda: postgres.ready(port), timeout=60)
    url = postgres.url(port)
    migrate.upgrade(url)
    engine = store.engine(url)
    try:
        async with engine.begin() as conn:
            await store.record_revision(conn, _esc(1), ())
        writer = Writer(engine, redis)
        await writer.attempt(_attempt(1))
        await writer.paged("inc_a", "polres-serang", "responsible", T0)
        assert await redis.llen(valkey_keys.RECORDS_BACKLOG) == 0  # written at once

        server.stop()
        await writer.attempt(_attempt(2))  # returns: the delivery path goes on
        await writer.paged("inc_a", "kanim-serang", "responsible", T0)
        await writer.attempt(_attempt(2))  # the same attempt recorded twice (a replay)
        assert await redis.llen(valkey_keys.RECORDS_BACKLOG) == 3

        server = postgres.server(port, pg_dir / "data", log=pg_dir / "pg.log", durable=True).start()
        server.wait_until(lambda: postgres.ready(port), timeout=60)
        assert await writer.drain() == 3
        assert await redis.llen(valkey_keys.RECORDS_BACKLOG) == 0
        async with engine.connect() as conn:
            attempts = (await conn.execute(select(func.count()).select_from(delivery_attempts))).scalar_one()
            offices = {r.office_id for r in await conn.execute(select(incident_offices))}
        assert attempts == 2 and offices == {"polres-serang", "kanim-serang"}
    finally:
        await engine.dispose()
        server.stop()
