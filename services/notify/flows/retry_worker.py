"""The retry worker: attempts parked deliveries when due, one attempt more than the schedule has waits.

It claims due entries from the durable retry queue under a lease (``adapters/valkey/retry_queue.py``),
so two replicas never attempt one delivery at once; past ``delivery_attempts`` the delivery is
dead-lettered. A Valkey outage only slows the polling down.
"""

import asyncio
import json
import time

from pydantic import ValidationError
from redis.asyncio import Redis
from redis.exceptions import RedisError

from services.common.logs import get_logger
from services.notify.adapters.valkey import notification_log, retry_queue
from services.notify.core.aio import sleep_unless
from services.notify.core.delivery import delivery_from_json
from services.notify.core.directory import Directory
from services.notify.core.errors import Permanent, Retryable
from services.notify.core.retry import wait_after
from services.notify.flows.attempts import Attempts
from services.notify.flows.failed import FailedDeliveries
from services.notify.settings import NotifySettings

log = get_logger("waspada.notify.delivery")


class RetryWorker:
    """Claims due deliveries from the queue and attempts each once; parks, dead-letters or finishes it."""

    def __init__(
        self,
        settings: NotifySettings,
        redis: Redis,
        directory: Directory,
        attempts: Attempts,
        failed: FailedDeliveries,
        stopping: asyncio.Event,
    ) -> None:
        self.settings = settings
        self.redis = redis
        self.directory = directory
        self.attempts = attempts
        self.failed = failed
        self.stopping = stopping
        self.tasks: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        """Attempt parked deliveries when due, until shutdown begins."""
        failing = False
        while not self.stopping.is_set():
            room = 2 * self.settings.delivery_concurrency - len(self.tasks)
            # a lease shorter than an attempt could let another replica attempt the same delivery
            lease = max(self.settings.retry_lease_s, 2 * self.settings.webhook_timeout_s)
            try:
                claimed = await retry_queue.claim(self.redis, time.time(), lease, room)
                failing = False
            except RedisError as error:
                if not failing:
                    log.warning("notify.retry_queue_unavailable", error=type(error).__name__)
                failing = True
                claimed = []
            for delivery_id, body in claimed:
                task = asyncio.create_task(self._retry(delivery_id, body))
                self.tasks.add(task)
                task.add_done_callback(self._retry_done)
            if self.tasks and len(claimed) >= room:
                # more may be due (a receiver is back after an outage): claim again as soon as one ends
                await asyncio.wait(
                    set(self.tasks), timeout=self.settings.retry_poll_s, return_when=asyncio.FIRST_COMPLETED
                )
            else:
                await sleep_unless(self.stopping, self.settings.retry_poll_s * (4 if failing else 1))

    def _retry_done(self, task: asyncio.Task[None]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            # the entry stays leased in the queue and is claimed again when the lease ends
            log.warning("notify.retry_failed", error=repr(task.exception()))

    async def _retry(self, delivery_id: str, body: str) -> None:
        try:
            data = json.loads(body)
            delivery = delivery_from_json(self.directory, data)
        except (ValueError, KeyError, TypeError, ValidationError):
            log.error("notify.retry_unreadable", delivery_id=delivery_id)
            await retry_queue.done(self.redis, delivery_id)
            return
        if delivery is None or delivery.id != delivery_id:
            log.warning("notify.retry_office_gone", delivery_id=delivery_id, office=data.get("office_id"))
            await retry_queue.done(self.redis, delivery_id)
            return
        async with self.attempts.exclusive(delivery_id):
            if self.attempts.remembered(delivery_id) or await notification_log.delivered(self.redis, delivery_id):
                await retry_queue.done(self.redis, delivery_id)
                return
            attempts, s = int(data["attempts"]) + 1, self.settings
            try:
                await self.attempts.attempt_logged(delivery, attempts)
            except Permanent as error:
                await self.failed.dead_letter(delivery, attempts, error)
            except Retryable as error:
                if attempts >= self.settings.delivery_attempts:
                    await self.failed.dead_letter(delivery, attempts, error)
                else:
                    wait = wait_after(attempts, error, schedule=s.retry_schedule_s, retry_after_max=s.retry_after_max_s)
                    await self.failed.park(delivery, attempts, error, time.time() + wait)
                    return
            await retry_queue.done(self.redis, delivery_id)
