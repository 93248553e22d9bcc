"""Delivery on the consumer's and the timers' path: deliver, or confirm an earlier success, or park, or dead-letter.

The pieces, one job each: ``core/retry.py`` (when to try again), ``flows/attempts.py`` (one attempt
and its log entry, one id at a time), ``flows/failed.py`` (parked or dead-lettered),
``flows/retry_worker.py`` (parked deliveries attempted when due), the webhook and SMTP clients
(``adapters/webhook.py``, ``adapters/smtp.py``) and the notification log
(``adapters/valkey/notification_log.py``). Never retried: a 4xx other than 429, an SMTP 5xx, and an
unexpected error building or sending the delivery (a bug, or data the channel cannot carry).
"""

import asyncio
import time

import aiohttp
from redis.asyncio import Redis

from services.notify.adapters import metrics
from services.notify.adapters.smtp import Mailer
from services.notify.adapters.valkey import notification_log
from services.notify.adapters.webhook import WebhookSender
from services.notify.core.aio import sleep_unless
from services.notify.core.delivery import Delivery, Outcome
from services.notify.core.directory import Directory, EmailChannel
from services.notify.core.errors import Permanent, Retryable
from services.notify.core.retry import wait_after, wait_in_process
from services.notify.flows.attempts import Attempts
from services.notify.flows.failed import FailedDeliveries, SendDeadLetter
from services.notify.flows.retry_worker import RetryWorker
from services.notify.settings import NotifySettings


class Deliverer:
    """Settles each delivery for its caller (the consumer may commit then); the retry worker beside it."""

    def __init__(
        self,
        settings: NotifySettings,
        redis: Redis,
        client: aiohttp.ClientSession,
        deadletter: SendDeadLetter,
        directory: Directory,
    ) -> None:
        self.settings = settings
        self.redis = redis
        mailer = (
            Mailer(settings.smtp_url, settings.smtp_from, settings.public_url, settings.webhook_timeout_s)
            if settings.smtp_url
            else None
        )
        self.attempts = Attempts(
            redis, WebhookSender(client, settings.public_url), mailer, settings.delivery_concurrency
        )
        self.failed = FailedDeliveries(redis, deadletter)
        self.stopping = asyncio.Event()
        """Set on shutdown: no quick retry waits any more (the delivery is parked), the retry worker stops."""
        self.retries = RetryWorker(settings, redis, directory, self.attempts, self.failed, self.stopping)

    async def run_retries(self) -> None:
        """The retry worker's loop, until shutdown begins."""
        await self.retries.run()

    async def drain(self, timeout: float) -> int:
        """Wait up to ``timeout`` for retries and attempts in flight to end (and be logged); how many did not."""
        pending = {*self.retries.tasks, *self.attempts.units}
        if not pending:
            return 0
        _, still = await asyncio.wait(pending, timeout=timeout)
        return len(still)

    async def deliver(self, delivery: Delivery, *, first_sight: bool = False) -> Outcome:
        """Deliver, or confirm an earlier success, or park in the retry queue, or dead-letter.

        Returns once the delivery is settled for the caller: the consumer may commit then.
        ``first_sight``: its revision was stored just now (SET NX), so it cannot have been delivered
        or parked before, and the notification log is not asked (a round trip per delivery saved).
        """
        async with self.attempts.exclusive(delivery.id):
            return await self._deliver(delivery, first_sight)

    async def _deliver(self, delivery: Delivery, first_sight: bool) -> Outcome:
        if self.attempts.remembered(delivery.id):
            return Outcome.ALREADY_DELIVERED
        if not first_sight:
            logged, parked = await notification_log.logged_or_parked(self.redis, delivery.id)
            if logged:
                self.attempts.remember(delivery.id)
                return Outcome.ALREADY_DELIVERED
            if parked:
                return Outcome.RETRYING
        if isinstance(delivery.channel, EmailChannel) and not self.settings.smtp_url:
            metrics.NOTIFICATIONS.labels("email", "skipped").inc()
            await notification_log.record(self.redis, delivery, Outcome.SKIPPED, 0, "smtp_not_configured")
            return Outcome.SKIPPED
        settings, attempts = self.settings, 0
        while True:
            attempts += 1
            try:
                await self.attempts.attempt_logged(delivery, attempts)
                return Outcome.DELIVERED
            except Permanent as error:
                await self.failed.dead_letter(delivery, attempts, error)
                return Outcome.DEAD_LETTERED
            except Retryable as error:
                if attempts >= settings.delivery_attempts:
                    await self.failed.dead_letter(delivery, attempts, error)
                    return Outcome.DEAD_LETTERED
                wait = wait_after(
                    attempts, error, schedule=settings.retry_schedule_s, retry_after_max=settings.retry_after_max_s
                )
                due = time.time() + wait
                quick = wait_in_process(attempts, settings.delivery_quick_attempts, wait, error.reason)
                if not quick or self.stopping.is_set() or await sleep_unless(self.stopping, wait):
                    await self.failed.park(delivery, attempts, error, due)
                    return Outcome.RETRYING
