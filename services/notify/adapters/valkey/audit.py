"""The audit log: who read, acknowledged or resolved which escalation, or had which delivery sent again, and when
(DOMAIN §3.3 storage duties).

Kept in Valkey/Redis as capped lists, newest first: one per office (what its officers did) and
one per incident (the acknowledgement history the console shows). Entries name offices and
escalation ids only, never a field of a report.
"""

import json
from typing import Any, Literal

from redis.asyncio import Redis

from services.common import valkey_keys
from services.notify.adapters.valkey.store import now_iso

Action = Literal["list", "read", "acknowledge", "resolve", "redeliver", "sign_in", "sign_out"]
KEEP = 10_000
"""Entries kept per list; older ones are trimmed (export them to long-term storage in production)."""


async def record(
    redis: Redis,
    *,
    office_id: str,
    action: Action,
    via: Literal["api", "console"],
    escalation_id: str | None = None,
    incident_id: str | None = None,
    note: str | None = None,
    count: int | None = None,
    delivery_id: str | None = None,
    outcome: str | None = None,
) -> dict[str, Any]:
    """Append one entry (office list, and incident list for actions on an escalation)."""
    entry: dict[str, Any] = {"at": now_iso(), "office_id": office_id, "action": action, "via": via}
    optional = {"escalation_id": escalation_id, "note": note, "count": count, "delivery_id": delivery_id}
    entry |= {k: v for k, v in (optional | {"outcome": outcome}).items() if v is not None}
    text = json.dumps(entry)
    async with redis.pipeline(transaction=False) as pipe:
        pipe.lpush(valkey_keys.audit_of_office(office_id), text)
        pipe.ltrim(valkey_keys.audit_of_office(office_id), 0, KEEP - 1)
        if incident_id is not None:
            pipe.lpush(valkey_keys.audit_of_incident(incident_id), text)
            pipe.ltrim(valkey_keys.audit_of_incident(incident_id), 0, KEEP - 1)
        await pipe.execute()
    return entry


async def for_office(redis: Redis, office_ids: list[str], limit: int = 200) -> list[dict[str, Any]]:
    """The newest entries of these offices, newest first."""
    entries: list[dict[str, Any]] = []
    for office_id in office_ids:
        entries += [json.loads(e) for e in await redis.lrange(valkey_keys.audit_of_office(office_id), 0, limit - 1)]
    return sorted(entries, key=lambda e: e["at"], reverse=True)[:limit]


async def for_incident(
    redis: Redis, incident_id: str, actions: tuple[str, ...] = ("acknowledge", "resolve")
) -> list[dict[str, Any]]:
    """The acknowledgement history of an incident, oldest first."""
    raw = await redis.lrange(valkey_keys.audit_of_incident(incident_id), 0, -1)
    return [e for e in (json.loads(r) for r in reversed(raw)) if e["action"] in actions]
