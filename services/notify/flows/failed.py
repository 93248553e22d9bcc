"""Where a delivery goes when an attempt failed: parked in the durable retry queue, or dead-lettered.

Parked: the consumer moves on (its batch commits: the queue holds the delivery) and the retry
worker attempts it again when due. Dead-lettered (past the attempts, or a failure no attempt
mends): the record on the dead-letter topic and ``waspada_deadletter_total{stage="notify",reason}``,
its body kept for an officer's redelivery (``adapters/valkey/dead_letters.py``), the console's row.
"""

import time
from collections.abc import Awaitable, Callable
from typing import Any

from redis.asyncio import Redis

from schemas.deadletter import DeadLetter, DeliverySource
from services.common.logs import get_logger
from services.notify.adapters import metrics
from services.notify.adapters.valkey import dead_letters, notification_log, retry_queue
from services.notify.core.delivery import Delivery, Outcome
from services.notify.core.errors import DeliveryFailure, Permanent, Retryable, Unexpected

log = get_logger("waspada.notify.delivery")
SendDeadLetter = Callable[[bytes, bytes], Awaitable[None]]
"""Puts (key, value) on the dead-letter topic and returns once the broker acknowledged it."""


class FailedDeliveries:
    """Parks or dead-letters a delivery, and writes the console's row for it."""

    def __init__(self, redis: Redis, send_dead_letter: SendDeadLetter) -> None:
        self.redis = redis
        self.send_dead_letter = send_dead_letter

    async def park(self, delivery: Delivery, attempts: int, error: Retryable, due: float) -> None:
        await retry_queue.park(self.redis, delivery.id, delivery.to_json(attempts, error.reason), due)
        metrics.NOTIFICATIONS.labels(delivery.channel.type, "retrying").inc()
        await notification_log.record(self.redis, delivery, Outcome.RETRYING, attempts, error.reason)
        log.info(
            "notify.parked",
            delivery_id=delivery.id,
            office=delivery.office.id,
            attempts=attempts,
            reason=error.reason,
            retry_in_s=round(due - time.time(), 1),
        )

    async def dead_letter(self, delivery: Delivery, attempts: int, error: DeliveryFailure) -> None:
        """The record on the dead-letter topic, the body kept for a redelivery, the console's row."""
        reason = error.deadletter_reason if isinstance(error, Permanent) else "delivery_failed"
        await dead_letters.keep(self.redis, delivery.id, delivery.to_json(attempts, error.reason))
        metrics.DEADLETTERS.labels("notify", reason).inc()
        metrics.NOTIFICATIONS.labels(delivery.channel.type, "dead_lettered").inc()
        body = DeadLetter(
            stage="notify",
            reason=reason,
            source=DeliverySource(
                escalation_id=delivery.escalation.escalation_id,
                incident_id=delivery.escalation.incident_id,
                office_id=delivery.office.id,
                channel=delivery.channel.type,
                delivery_id=delivery.id,
                step=delivery.notice.step,
            ),
            errors=[_error_entry(attempts, error)],
        )
        await self.send_dead_letter(delivery.escalation.desa_code.encode(), body.to_bytes())
        await notification_log.record(self.redis, delivery, Outcome.DEAD_LETTERED, attempts, error.reason)
        log.warning("notify.dead_lettered", delivery_id=delivery.id, office=delivery.office.id, reason=error.reason)


def _error_entry(attempts: int, error: DeliveryFailure) -> dict[str, Any]:
    """What the dead-letter record says of the last failure: for an unexpected one, its type and message."""
    entry: dict[str, Any] = {"attempts": attempts, "last_error": error.reason}
    if isinstance(error, Unexpected):
        entry |= {"error": type(error.error).__name__, "message": str(error.error)[:300]}
    return entry
