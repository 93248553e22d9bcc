"""Dead-lettered deliveries kept for a redelivery: what the retry queue held for each, for 30 days.

The record on the dead-letter topic says what failed; sending the delivery again needs what to
send, to whom, under which ``webhook-id``, which is the retry queue's body
(:meth:`services.notify.core.delivery.Delivery.to_json`: the escalation, the office by id, the channel
index and the notice; no secret). It is kept under the delivery id, so an officer's redelivery
(:mod:`services.notify.flows.redelivery`) finds it from the id the console and the officer API show, and
it stays after a redelivery, so the same request again learns "already delivered" instead of 404.
"""

import json
from typing import Any

from redis.asyncio import Redis

from services.common import valkey_keys

KEEP_S = 30 * 86400
"""Long enough for an office's receiver to be mended and the delivery sent again; then it expires."""


async def keep(redis: Redis, delivery_id: str, body: str) -> None:
    """Keep (or refresh) a dead-lettered delivery's body."""
    await redis.set(valkey_keys.dead_delivery(delivery_id), body, ex=KEEP_S)


async def kept(redis: Redis, delivery_id: str) -> dict[str, Any] | None:
    """The body of a dead-lettered delivery, or None when there is none (never dead-lettered, or expired)."""
    raw = await redis.get(valkey_keys.dead_delivery(delivery_id))
    if raw is None:
        return None
    data: dict[str, Any] = json.loads(raw)
    return data
