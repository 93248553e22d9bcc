"""Escalations as officers see them, kept in Valkey/Redis: status, acknowledgement, resolution."""

import json
from datetime import UTC, datetime
from typing import Any

from redis.asyncio import Redis

from schemas.escalation import Escalation

PREFIX = "waspada:notify"


async def save(redis: Redis, escalation: Escalation, office_ids: list[str]) -> None:
    """Store a revision (idempotently) and index it under every office that holds jurisdiction."""
    key = f"{PREFIX}:escalation:{escalation.escalation_id}"
    record = {
        **escalation.model_dump(mode="json"),
        "status": "open",
        "acknowledged_at": None,
        "acknowledged_by": None,
        "resolved_at": None,
        "offices": office_ids,
    }
    if await redis.set(key, json.dumps(record), nx=True):
        score = escalation.created_at.timestamp()
        for office_id in office_ids:
            await redis.zadd(f"{PREFIX}:office:{office_id}", {escalation.escalation_id: score})


async def get(redis: Redis, escalation_id: str) -> dict[str, Any] | None:
    raw = await redis.get(f"{PREFIX}:escalation:{escalation_id}")
    return json.loads(raw) if raw else None


async def for_offices(redis: Redis, office_ids: list[str]) -> list[dict[str, Any]]:
    ids: set[str] = set()
    for office_id in office_ids:
        members = await redis.zrange(f"{PREFIX}:office:{office_id}", 0, -1)
        ids.update(m.decode() if isinstance(m, bytes) else str(m) for m in members)
    records = [await get(redis, i) for i in ids]
    return sorted((r for r in records if r), key=lambda r: r["created_at"], reverse=True)


async def set_status(redis: Redis, escalation_id: str, status: str, office_id: str) -> dict[str, Any] | None:
    record = await get(redis, escalation_id)
    if record is None:
        return None
    now = datetime.now(UTC).isoformat()
    if status == "acknowledged" and record["status"] == "open":
        record.update(status="acknowledged", acknowledged_at=now, acknowledged_by=office_id)
    elif status == "resolved" and record["status"] != "resolved":
        record.update(status="resolved", resolved_at=now)
        record["acknowledged_at"] = record["acknowledged_at"] or now
        record["acknowledged_by"] = record["acknowledged_by"] or office_id
    await redis.set(f"{PREFIX}:escalation:{escalation_id}", json.dumps(record))
    return record
