"""Records the delivery path writes (attempts, the offices paged), without ever waiting for PostgreSQL.

Deliveries keep flowing while PostgreSQL is down (CONTRACT §14): a record that cannot be written
at once goes to a backlog list in Valkey, and a loop writes the backlog into PostgreSQL once it
answers again (each insert is idempotent, so a record written twice is one row). Losing Valkey
entirely costs nothing while PostgreSQL is up, since the backlog is then empty; only both down at
once loses what the backlog held, and that is logged.
"""

import asyncio
import json
from dataclasses import asdict
from datetime import datetime
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.common import valkey_keys
from services.common.logs import get_logger
from services.notify.adapters.postgres import store
from services.notify.adapters.postgres.recorder import DATABASE_AWAY
from services.notify.adapters.postgres.tables import incident_offices

log = get_logger("waspada.notify.records")
DRAIN_BATCH = 500


async def record_paged(conn: AsyncConnection, incident_id: str, office_id: str, role: str, since: datetime) -> None:
    """An office paged for an incident (what its list and audit show), once."""
    row = {"incident_id": incident_id, "office_id": office_id, "role": role, "since": since}
    await conn.execute(insert(incident_offices).values(row).on_conflict_do_nothing())


def _encode(kind: str, fields: dict[str, Any]) -> str:
    return json.dumps(
        {"record": kind, **{k: v.isoformat() if isinstance(v, datetime) else v for k, v in fields.items()}}
    )


async def _apply(conn: AsyncConnection, raw: str) -> None:
    entry = json.loads(raw)
    kind = entry.pop("record")
    if kind == "attempt":
        entry["attempted_at"] = datetime.fromisoformat(entry["attempted_at"])
        await store.record_attempt(conn, store.Attempt(**entry))
    elif kind == "paged":
        await record_paged(
            conn, entry["incident_id"], entry["office_id"], entry["role"], datetime.fromisoformat(entry["since"])
        )
    else:
        log.warning("records.unknown_backlog_entry", kind=kind)


class Writer:
    """Writes into PostgreSQL now, or into the backlog when it does not answer."""

    def __init__(self, engine: AsyncEngine, redis: Redis) -> None:
        self.engine = engine
        self.redis = redis

    async def attempt(self, attempt: store.Attempt) -> None:
        await self._write(_encode("attempt", asdict(attempt)))

    async def paged(self, incident_id: str, office_id: str, role: str, since: datetime) -> None:
        fields = {"incident_id": incident_id, "office_id": office_id, "role": role, "since": since}
        await self._write(_encode("paged", fields))

    async def _write(self, entry: str) -> None:
        try:
            async with self.engine.begin() as conn:
                await _apply(conn, entry)
        except DATABASE_AWAY as error:
            log.warning("records.deferred", error=type(error).__name__)
            await self._defer(entry)

    async def _defer(self, entry: str) -> None:
        try:
            await self.redis.rpush(valkey_keys.RECORDS_BACKLOG, entry)
        except RedisError:
            log.error("records.lost", reason="PostgreSQL and Valkey both away")

    async def drain(self) -> int:
        """Write the backlog into PostgreSQL, oldest first; how many entries it wrote."""
        written = 0
        while True:
            entries = await self.redis.lrange(valkey_keys.RECORDS_BACKLOG, 0, DRAIN_BATCH - 1)
            if not entries:
                return written
            async with self.engine.begin() as conn:
                for raw in entries:
                    await _apply(conn, raw.decode() if isinstance(raw, bytes) else raw)
            await self.redis.ltrim(valkey_keys.RECORDS_BACKLOG, len(entries), -1)  # only once committed
            written += len(entries)

    async def drain_forever(self, stopping: asyncio.Event, every_s: float = 2.0) -> None:
        """Drain the backlog every ``every_s`` until ``stopping``; a failed pass is tried again next time."""
        while not stopping.is_set():
            try:
                if await self.drain():
                    log.info("records.backlog_written")
            except (OperationalError, DBAPIError, OSError, RedisError) as error:
                log.info("records.backlog_waits", error=type(error).__name__)
            try:
                await asyncio.wait_for(stopping.wait(), every_s)
            except TimeoutError:
                continue
