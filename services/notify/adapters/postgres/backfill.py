"""The one-off copy of what Valkey held before the system of record existed (issue: migrating a deployment).

On the first start with a database, notify copies the escalation revisions it stored, their
status (acknowledged, resolved, by whom, when) and the audit lists into PostgreSQL, in one
transaction that also writes a ``backfills`` row: a second start, or a second replica starting
at the same moment (it waits on the row's lock), copies nothing again.
"""

import json
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from schemas.escalation import Escalation
from services.common import valkey_keys
from services.common.logs import get_logger
from services.notify.adapters.postgres import store
from services.notify.adapters.postgres.tables import backfills

log = get_logger("waspada.notify.backfill")
NAME = "valkey-v1"


async def _scan(redis: Redis, pattern: str) -> AsyncIterator[str]:
    async for key in redis.scan_iter(match=pattern, count=1000):
        yield key.decode() if isinstance(key, bytes) else str(key)


def _text(value: Any) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


async def _revisions(redis: Redis, conn: AsyncConnection) -> tuple[int, int]:
    """Every stored revision, then its incident's status. (revisions, statuses) copied."""
    copied = statuses = 0
    async for key in _scan(redis, valkey_keys.escalation("*")):
        raw = await redis.get(key)
        if raw is None:
            continue
        record = json.loads(raw)
        try:
            escalation = Escalation.model_validate(record)
        except ValidationError:
            log.warning("backfill.unreadable_revision", key=key)
            continue
        offices = [(office, "paged") for office in record.get("offices", [])]
        copied += await store.record_revision(conn, escalation, offices)
        raw_status = await redis.hgetall(valkey_keys.status(escalation.escalation_id))
        status = {str(_text(k)): _text(v) for k, v in raw_status.items()}
        statuses += await _status(conn, escalation.incident_id, status)
    return copied, statuses


async def _status(conn: AsyncConnection, incident_id: str, status: dict[str, str | None]) -> bool:
    if status.get("acknowledged_at") and status.get("acknowledged_by"):
        await store.acknowledge(
            conn, incident_id, str(status["acknowledged_by"]), datetime.fromisoformat(str(status["acknowledged_at"]))
        )
    if status.get("status") == "resolved" and status.get("resolved_at") and status.get("resolved_by"):
        return await store.resolve(
            conn, incident_id, str(status["resolved_by"]), datetime.fromisoformat(str(status["resolved_at"]))
        )
    return False


async def _audit(redis: Redis, conn: AsyncConnection) -> int:
    copied = 0
    async for key in _scan(redis, valkey_keys.audit_of_office("*")):
        for raw in reversed(await redis.lrange(key, 0, -1)):  # oldest first, as they happened
            entry = json.loads(raw)
            action = store.Action(
                action=entry["action"],
                office_id=entry["office_id"],
                at=datetime.fromisoformat(entry["at"]),
                via=entry.get("via"),
                escalation_id=entry.get("escalation_id"),
                delivery_id=entry.get("delivery_id"),
                outcome=entry.get("outcome"),
                note=entry.get("note"),
                items=entry.get("count"),
            )
            await store.record_action(conn, action)
            copied += 1
    return copied


async def copy_once(redis: Redis, conn: AsyncConnection) -> dict[str, int] | None:
    """Copy Valkey's records unless done before; what was copied, or None when it had been."""
    claimed = await conn.execute(
        insert(backfills).values(name=NAME, copied={}).on_conflict_do_nothing().returning(backfills.c.name)
    )
    if claimed.first() is None:
        return None
    revisions, statuses = await _revisions(redis, conn)
    copied = {"revisions": revisions, "resolved": statuses, "audit_entries": await _audit(redis, conn)}
    await conn.execute(backfills.update().where(backfills.c.name == NAME).values(copied=copied))
    log.info("backfill.copied", **copied)
    return copied


async def done(conn: AsyncConnection) -> bool:
    return (await conn.execute(select(backfills.c.name).where(backfills.c.name == NAME))).first() is not None
