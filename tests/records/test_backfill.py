"""A deployment that ran on Valkey alone gets its escalations, statuses and audit copied once, on first start."""

from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio
from redis.asyncio import Redis
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from devstack import infra
from devstack.processes import Managed, free_port
from schemas.escalation import Escalation
from services.notify.adapters.postgres import backfill
from services.notify.adapters.postgres.tables import escalation_revisions, incident_offices, incidents, officer_actions
from services.notify.adapters.valkey import audit
from services.notify.adapters.valkey import store as valkey_store
from tests.notify.conftest import escalation


@pytest.fixture(scope="module")
def valkey_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    port = free_port()
    root = tmp_path_factory.mktemp("valkey")
    proc: Managed = infra.valkey(port, root, log=root / "valkey.log", persist=False).start()
    proc.wait_until(lambda: infra.valkey_ready(port))
    yield port
    proc.stop()


@pytest_asyncio.fixture
async def redis(valkey_port: int) -> AsyncIterator[Redis]:
    client = Redis.from_url(f"redis://127.0.0.1:{valkey_port}/0")
    await client.flushall()
    yield client
    await client.aclose()


async def _count(engine: AsyncEngine, table: object) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())  # type: ignore[arg-type]


async def test_what_valkey_held_is_copied_once_with_statuses_and_audit(redis: Redis, engine: AsyncEngine) -> None:
    first = Escalation.model_validate(escalation(incident_id="inc_a", escalation_id="esc_a1"))
    second = Escalation.model_validate(
        escalation(incident_id="inc_a", escalation_id="esc_a2", revision=2, severity="HIGH")
    )
    other = Escalation.model_validate(escalation(incident_id="inc_b", escalation_id="esc_b1"))
    for esc in (first, second, other):
        await valkey_store.save(redis, esc, ["polres-serang", "kanim-serang"])
    record = await valkey_store.get(redis, "esc_a2")
    assert record is not None
    await valkey_store.set_status(redis, record, "resolved", "polres-serang")
    await audit.record(
        redis,
        office_id="polres-serang",
        action="resolve",
        via="api",
        escalation_id="esc_a2",
        incident_id="inc_a",
        note="selesai",
    )
    await audit.record(redis, office_id="kanim-serang", action="list", via="console", count=3)

    async with engine.begin() as conn:
        copied = await backfill.copy_once(redis, conn)
    async with engine.begin() as conn:
        again = await backfill.copy_once(redis, conn)  # the next start, or a second replica
    assert copied == {"revisions": 3, "resolved": 1, "audit_entries": 2} and again is None
    assert await _count(engine, escalation_revisions) == 3
    assert await _count(engine, incident_offices) == 4
    assert await _count(engine, officer_actions) == 2
    async with engine.connect() as conn:
        rows = {
            r.incident_id: (r.latest_revision, r.status, r.resolved_by) for r in await conn.execute(select(incidents))
        }
        note = (
            await conn.execute(select(officer_actions.c.note).where(officer_actions.c.action == "resolve"))
        ).scalar()
    assert rows == {"inc_a": (2, "resolved", "polres-serang"), "inc_b": (1, "open", None)}
    assert note == "selesai"
