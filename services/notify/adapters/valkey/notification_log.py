"""The notification log and the console's delivery rows, in Valkey.

The log entry is written only after a success (as Alertmanager's), so a restart or a replayed
escalation skips exactly what was already delivered and retries the rest. Once a receiver answered
2xx the entry is retried until Valkey takes it (``log_success``): a Valkey outage must never turn a
success into a second page.
"""

import asyncio
import json

from redis.asyncio import Redis
from redis.exceptions import RedisError

from services.common import valkey_keys
from services.common.logs import get_logger
from services.notify.adapters.valkey import store
from services.notify.core.delivery import Delivery, Outcome, entry_of

log = get_logger("waspada.notify.delivery")
LOG_TTL_S = 90 * 24 * 3600
"""How long the notification log remembers a delivery: far beyond any replay of the topic."""


async def delivered(redis: Redis, delivery_id: str) -> bool:
    """The notification log has it: a receiver answered 2xx (or SMTP took it)."""
    return bool(await redis.exists(valkey_keys.delivered(delivery_id)))


async def logged_or_parked(redis: Redis, delivery_id: str) -> tuple[bool, bool]:
    """(in the notification log, in the retry queue), in one round trip."""
    async with redis.pipeline(transaction=False) as pipe:
        pipe.exists(valkey_keys.delivered(delivery_id))
        pipe.zscore(valkey_keys.RETRY_DUE, delivery_id)
        logged, parked = await pipe.execute()
    return bool(logged), parked is not None


async def log_success(redis: Redis, delivery: Delivery, attempts: int) -> bool:
    """The notification log entry and the console's delivery row, retried until Valkey takes them.

    True when this was the revision's first delivery across replicas (its end-to-end latency is
    observed once): a SET NX in the same transaction, not a round trip of its own.
    """
    entry = json.dumps(entry_of(delivery, Outcome.DELIVERED, attempts))
    escalation = delivery.escalation
    wait, failures = 0.1, 0
    while True:
        try:
            async with redis.pipeline(transaction=True) as pipe:
                pipe.set(valkey_keys.delivered(delivery.id), store.now_iso(), ex=LOG_TTL_S)
                pipe.hset(valkey_keys.deliveries(escalation.escalation_id), delivery.id, entry)
                pipe.set(valkey_keys.first_delivery(escalation.escalation_id), "1", nx=True, ex=LOG_TTL_S)
                first = (await pipe.execute())[-1]
            if failures:
                log.info("notify.log_written_late", delivery_id=delivery.id, failures=failures)
            return bool(first)
        except RedisError as error:
            if not failures:
                log.warning("notify.log_write_failed", delivery_id=delivery.id, error=type(error).__name__)
            failures += 1
            await asyncio.sleep(wait)
            wait = min(2.0, wait * 2)


async def record(redis: Redis, delivery: Delivery, outcome: Outcome, attempts: int, error: str | None = None) -> None:
    """Write the console's row of a delivery (not the notification log: that is written on success only)."""
    entry = entry_of(delivery, outcome, attempts, error)
    await store.record_delivery(redis, delivery.escalation.escalation_id, delivery.id, entry)
