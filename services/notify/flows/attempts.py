"""One attempt of a delivery and its notification-log entry, as a unit no cancellation cuts in two.

- One delivery id is never attempted by two tasks of a process at once (a replayed batch and the
  retry worker take turns: ``exclusive``), nor by two replicas (the retry queue's lease).
- Shutdown waits for the units in flight (``drain``), so a webhook answered 200 is logged before
  the process exits; the process also remembers the ids it delivered, so a Valkey outage between
  the 2xx and the log entry never pages twice.
- Concurrency is bounded per process by a semaphore held only during an attempt, never during
  a backoff wait.
"""

import asyncio
import contextlib
import time
from collections import OrderedDict
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from redis.asyncio import Redis
from redis.exceptions import RedisError

from schemas.escalation import Escalation
from services.common.logs import get_logger
from services.notify.adapters import metrics
from services.notify.adapters.smtp import Mailer
from services.notify.adapters.valkey import notification_log
from services.notify.adapters.webhook import WebhookSender
from services.notify.core.delivery import Delivery
from services.notify.core.directory import WebhookChannel
from services.notify.core.errors import DeliveryFailure, Unexpected

log = get_logger("waspada.notify.delivery")
REMEMBERED = 100_000
"""Delivery ids this process remembers as delivered, besides the notification log in Valkey."""


class Attempts:
    """Makes attempts (webhook or e-mail) one id at a time, logs successes, and knows what is in flight."""

    def __init__(self, redis: Redis, webhook: WebhookSender, mailer: Mailer | None, concurrency: int) -> None:
        self.redis = redis
        self.webhook = webhook
        self.mailer = mailer
        self.slots = asyncio.Semaphore(concurrency)
        self._delivered: OrderedDict[str, None] = OrderedDict()
        self._locks: dict[str, tuple[asyncio.Lock, list[int]]] = {}
        self.units: set[asyncio.Future[None]] = set()

    @contextlib.asynccontextmanager
    async def exclusive(self, delivery_id: str) -> AsyncIterator[None]:
        """Held while a task handles ``delivery_id``: another task with the same id waits its turn."""
        lock, users = self._locks.setdefault(delivery_id, (asyncio.Lock(), [0]))
        users[0] += 1
        try:
            async with lock:
                yield
        finally:
            users[0] -= 1
            if users[0] == 0:
                self._locks.pop(delivery_id, None)

    def remembered(self, delivery_id: str) -> bool:
        """This process delivered it (whether or not the log entry is written yet)."""
        return delivery_id in self._delivered

    def remember(self, delivery_id: str) -> None:
        self._delivered[delivery_id] = None
        self._delivered.move_to_end(delivery_id)
        while len(self._delivered) > REMEMBERED:
            self._delivered.popitem(last=False)

    async def attempt_logged(self, delivery: Delivery, attempts: int) -> None:
        """One attempt and, on success, its log entry, as a unit no cancellation cuts in two."""
        unit = asyncio.ensure_future(self._attempt_then_log(delivery, attempts))
        self.units.add(unit)
        unit.add_done_callback(self._unit_done)
        await asyncio.shield(unit)

    def _unit_done(self, unit: asyncio.Future[None]) -> None:
        self.units.discard(unit)
        if not unit.cancelled():
            unit.exception()  # retrieved here too, for a unit whose caller was cancelled

    async def _attempt_then_log(self, delivery: Delivery, attempts: int) -> None:
        await self._attempt(delivery)
        self.remember(delivery.id)
        if await notification_log.log_success(self.redis, delivery, attempts):
            _observe_end_to_end(delivery.escalation)
        metrics.NOTIFICATIONS.labels(delivery.channel.type, "delivered").inc()

    async def _attempt(self, delivery: Delivery) -> None:
        started = time.monotonic()
        try:
            async with self.slots:
                if isinstance(delivery.channel, WebhookChannel):
                    await self.webhook.send(delivery, delivery.channel)
                else:
                    assert self.mailer is not None  # an e-mail without SMTP is skipped before any attempt
                    await self.mailer.send(delivery, delivery.channel)
        except DeliveryFailure as error:
            metrics.NOTIFICATIONS.labels(delivery.channel.type, "failed").inc()
            log.info("notify.attempt_failed", delivery_id=delivery.id, office=delivery.office.id, reason=error.reason)
            raise
        except RedisError:
            raise
        except Exception as error:
            metrics.NOTIFICATIONS.labels(delivery.channel.type, "failed").inc()
            log.exception("notify.attempt_error", delivery_id=delivery.id, office=delivery.office.id)
            raise Unexpected(error) from error
        finally:
            metrics.DELIVERY_SECONDS.observe(time.monotonic() - started)


def _observe_end_to_end(escalation: Escalation) -> None:
    """Ingest (the first report's arrival) to this revision's first delivery."""
    if escalation.first_received_at is not None:
        seconds = (datetime.now(UTC) - escalation.first_received_at).total_seconds()
        metrics.END_TO_END_SECONDS.observe(max(0.0, seconds))
