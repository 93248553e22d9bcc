"""Escalations as officers see them, kept in Valkey/Redis: record, status, revisions, deliveries.

The escalation body is written once (SET NX) and never changes; the status lives in its own
hash and changes only through small Lua scripts, so two officers acknowledging at the same
moment (or two notify replicas) cannot overwrite each other. Everything is in Redis so that any
replica can answer for any escalation and a restart loses nothing.
"""

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from schemas.escalation import Escalation
from services.common import valkey_keys

Status = Literal["open", "acknowledged", "resolved"]
STATUS_FIELDS = ("status", "acknowledged_at", "acknowledged_by", "resolved_at", "resolved_by")

_ACK = """
if redis.call('HGET', KEYS[1], 'status') == 'open' then
  redis.call('HSET', KEYS[1], 'status', 'acknowledged', 'acknowledged_at', ARGV[1], 'acknowledged_by', ARGV[2])
  return 1
end
return 0
"""
_RESOLVE = """
local status = redis.call('HGET', KEYS[1], 'status')
if status == false or status == 'resolved' then return 0 end
if status == 'open' then
  redis.call('HSET', KEYS[1], 'acknowledged_at', ARGV[1], 'acknowledged_by', ARGV[2])
end
redis.call('HSET', KEYS[1], 'status', 'resolved', 'resolved_at', ARGV[1], 'resolved_by', ARGV[2])
return 1
"""


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


@dataclass(frozen=True, slots=True)
class Saved:
    """What storing a revision found: whether it was new, its status, the incident's latest revision."""

    new: bool
    status: str
    latest_revision: int


async def save(
    redis: Redis,
    escalation: Escalation,
    office_ids: list[str],
    *,
    uncertain: bool = False,
    unrouted: tuple[str, ...] = (),
) -> Saved:
    """Store a revision (idempotently), index it under every office of its chain, and read back its status.

    ``unrouted``: the agencies whose national desk got it (kept as ``unrouted_agencies`` for the console).

    One transaction, one round trip: the body is SET NX (written once, never changed), and the
    index entries and the initial status are idempotent, so writing them again for a revision seen
    before changes nothing (an acknowledged status stays: HSETNX).
    """
    record = {
        **escalation.model_dump(mode="json", exclude={"first_received_at"}),
        "offices": office_ids,
        "jurisdiction_uncertain": uncertain,
        "unrouted_agencies": list(unrouted),
    }
    eid = escalation.escalation_id
    revisions_key = valkey_keys.incident_revisions(escalation.incident_id)
    async with redis.pipeline(transaction=True) as pipe:
        pipe.set(valkey_keys.escalation(eid), json.dumps(record), nx=True)
        pipe.hsetnx(valkey_keys.status(eid), "status", "open")
        pipe.zadd(revisions_key, {eid: escalation.revision})
        for office_id in office_ids:
            pipe.zadd(valkey_keys.office_escalations(office_id), {eid: escalation.created_at.timestamp()})
        pipe.hget(valkey_keys.status(eid), "status")
        pipe.zrange(revisions_key, -1, -1, withscores=True)
        results = await pipe.execute()
    new, status, top = results[0], results[-2], results[-1]
    return Saved(new=bool(new), status=_text(status), latest_revision=int(top[0][1]) if top else 0)


async def _status(redis: Redis, escalation_id: str) -> dict[str, Any]:
    raw = await redis.hgetall(valkey_keys.status(escalation_id))
    found = {_text(k): _text(v) for k, v in raw.items()}
    return {name: found.get(name) for name in STATUS_FIELDS} | {"status": found.get("status", "open")}


async def get(redis: Redis, escalation_id: str) -> dict[str, Any] | None:
    """The escalation with its current status, or None."""
    raw = await redis.get(valkey_keys.escalation(escalation_id))
    if raw is None:
        return None
    record: dict[str, Any] = json.loads(raw)
    return record | await _status(redis, escalation_id)


async def latest_revision(redis: Redis, incident_id: str) -> int:
    top = await redis.zrange(valkey_keys.incident_revisions(incident_id), -1, -1, withscores=True)
    return int(top[0][1]) if top else 0


async def revisions(redis: Redis, incident_id: str) -> list[dict[str, Any]]:
    """Every stored revision of an incident, oldest first (the console's timeline)."""
    ids = await redis.zrange(valkey_keys.incident_revisions(incident_id), 0, -1)
    records = [await get(redis, _text(i)) for i in ids]
    return [r for r in records if r]


async def for_offices(redis: Redis, office_ids: list[str]) -> list[dict[str, Any]]:
    """Every escalation indexed under any of ``office_ids``, newest first."""
    ids: set[str] = set()
    for office_id in office_ids:
        ids.update(_text(m) for m in await redis.zrange(valkey_keys.office_escalations(office_id), 0, -1))
    records = [await get(redis, i) for i in ids]
    return sorted((r for r in records if r), key=lambda r: r["created_at"], reverse=True)


async def set_status(
    redis: Redis, record: dict[str, Any], status: Literal["acknowledged", "resolved"], office_id: str
) -> dict[str, Any]:
    """Acknowledge or resolve ``record`` and every earlier revision of its incident; the updated record.

    An acknowledgement of revision N covers revisions before it: the officer has seen the incident.
    """
    script = redis.register_script(_ACK if status == "acknowledged" else _RESOLVE)
    at = now_iso()
    for other in await revisions(redis, record["incident_id"]):
        if other["revision"] <= record["revision"]:
            await script(keys=[valkey_keys.status(other["escalation_id"])], args=[at, office_id])
    return record | await _status(redis, record["escalation_id"])


# -- deliveries, as the console shows them ----------------------------------------------------
async def record_delivery(redis: Redis, escalation_id: str, delivery_id: str, entry: dict[str, Any]) -> None:
    await redis.hset(valkey_keys.deliveries(escalation_id), delivery_id, json.dumps(entry))


async def deliveries(redis: Redis, escalation_id: str) -> list[dict[str, Any]]:
    """The escalation's deliveries with their ids (a dead-lettered one is sent again by its id)."""
    raw = await redis.hgetall(valkey_keys.deliveries(escalation_id))
    entries = [json.loads(v) | {"delivery_id": _text(k)} for k, v in raw.items()]
    return sorted(entries, key=lambda e: (e.get("step", 0), e.get("at", "")))


# -- the unacknowledged gauge, kept in Redis so it survives restarts and agrees across replicas
def mark_unacknowledged(pipe: Pipeline, escalation: Escalation) -> None:
    """The incident's newest revision is open: count it under its severity (queued on ``pipe``)."""
    pipe.hset(valkey_keys.UNACKNOWLEDGED, escalation.incident_id, f"{escalation.revision}|{escalation.severity.value}")


async def clear_unacknowledged(redis: Redis, incident_id: str, up_to_revision: int) -> None:
    raw = await redis.hget(valkey_keys.UNACKNOWLEDGED, incident_id)
    if raw is not None and int(_text(raw).split("|")[0]) <= up_to_revision:
        await redis.hdel(valkey_keys.UNACKNOWLEDGED, incident_id)


async def unacknowledged_by_severity(redis: Redis) -> dict[str, int]:
    counts: dict[str, int] = {}
    for value in (await redis.hgetall(valkey_keys.UNACKNOWLEDGED)).values():
        severity = _text(value).split("|")[1]
        counts[severity] = counts.get(severity, 0) + 1
    return counts
