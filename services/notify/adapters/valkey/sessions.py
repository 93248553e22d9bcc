"""The console's sessions in Valkey: any replica can serve one, a restart keeps it; one duty shift long."""

import json
import secrets
from datetime import UTC, datetime
from typing import Any

from redis.asyncio import Redis

from services.common import valkey_keys

SESSION_TTL_S = 12 * 3600
"""One duty shift."""


async def get(redis: Redis, sid: str) -> dict[str, Any] | None:
    """The session's data (office id, CSRF token, since), or None for no or an expired session."""
    raw = await redis.get(valkey_keys.session(sid)) if sid else None
    data: dict[str, Any] | None = json.loads(raw) if raw else None
    return data


async def start(redis: Redis, office_id: str) -> str:
    """A new session for the office; its random id goes into the cookie."""
    sid = secrets.token_urlsafe(32)
    data = {"office_id": office_id, "csrf": secrets.token_urlsafe(32), "since": datetime.now(UTC).isoformat()}
    await redis.set(valkey_keys.session(sid), json.dumps(data), ex=SESSION_TTL_S)
    return sid


async def end(redis: Redis, sid: str) -> None:
    await redis.delete(valkey_keys.session(sid))
