"""The recorder writes every revision on the topic into PostgreSQL, and catches up after PostgreSQL was down."""

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from devstack import postgres
from devstack.processes import free_port
from devstack.stack import Stack
from schemas.topics import Topics
from services.common.kafka import make_producer
from services.notify.adapters.postgres import migrate, recorder, store
from services.notify.adapters.postgres.tables import escalation_revisions, incidents
from tests.notify.conftest import escalation

pytestmark = pytest.mark.integration


async def _publish(bootstrap: str, bodies: list[dict[str, object]]) -> None:
    producer = make_producer(bootstrap, idempotent=False)
    await producer.start()
    try:
        for body in bodies:
            await producer.send_and_wait(
                Topics.ESCALATIONS, key=str(body["desa_code"]).encode(), value=json.dumps(body).encode()
            )
        await producer.send_and_wait(Topics.ESCALATIONS, key=b"36.04.13.2007", value=b"{not an escalation")
    finally:
        await producer.stop()


async def _recorded(url: str, incident_ids: set[str]) -> int:
    engine = store.engine(url)
    try:
        async with engine.connect() as conn:
            query = (
                select(func.count())
                .select_from(escalation_revisions)
                .where(escalation_revisions.c.incident_id.in_(incident_ids))
            )
            return int((await conn.execute(query)).scalar_one())
    except recorder.DATABASE_AWAY:
        return -1
    finally:
        await engine.dispose()


async def _until(check: Callable[[], Awaitable[int]], expected: int, timeout: float = 30.0) -> int:
    deadline = time.monotonic() + timeout
    got = await check()
    while got != expected and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
        got = await check()
    return int(got)


async def test_revisions_are_recorded_once_and_caught_up_after_postgres_was_down(
    infra: Stack, tmp_path: Path, pg_dir: Path
) -> None:
    assert infra.kafka_bootstrap
    port = free_port()
    server = postgres.server(port, pg_dir / "data", log=pg_dir / "postgres.log", durable=True).start()
    stopping = asyncio.Event()
    try:
        server.wait_until(lambda: postgres.ready(port), timeout=60)
        url = postgres.url(port)
        await asyncio.to_thread(migrate.upgrade, url)
        engine = store.engine(url)
        task = asyncio.create_task(recorder.run(infra.kafka_bootstrap, engine, stopping))
        first = [escalation() for _ in range(5)]
        first.append({**first[0], "revision": 2, "escalation_id": first[0]["escalation_id"] + "-2", "severity": "HIGH"})
        await _publish(infra.kafka_bootstrap, first + first[:2])  # two replayed: recorded once
        ids = {str(b["incident_id"]) for b in first}
        assert await _until(lambda: _recorded(url, ids), 6) == 6

        server.stop()  # PostgreSQL away while escalations keep arriving
        later = [escalation() for _ in range(4)]
        await _publish(infra.kafka_bootstrap, later)
        await asyncio.sleep(1.5)
        assert not task.done()
        server = postgres.server(port, pg_dir / "data", log=pg_dir / "postgres.log", durable=True).start()
        server.wait_until(lambda: postgres.ready(port), timeout=60)
        ids |= {str(b["incident_id"]) for b in later}
        assert await _until(lambda: _recorded(url, ids), 10) == 10
        async with engine.connect() as conn:
            latest = (
                await conn.execute(
                    select(incidents.c.latest_revision).where(incidents.c.incident_id == first[0]["incident_id"])
                )
            ).scalar()
        assert latest == 2
        stopping.set()
        await asyncio.wait_for(task, 15)
        await engine.dispose()
    finally:
        stopping.set()
        server.stop()
