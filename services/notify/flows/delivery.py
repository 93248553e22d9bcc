"""Delivery of one notification to one office channel: signed webhook or e-mail, retried, logged.

- The notification log entry is written only after a success (as Alertmanager's), so a restart
  or a replayed escalation skips exactly what was already delivered and retries the rest. Once a
  receiver answered 2xx the entry is written before anything else happens: it is retried until
  Valkey takes it, and the process remembers the id meanwhile, so a Valkey outage never turns a
  success into a second page.
- Retries on 429, 5xx, timeouts and connection errors follow ``retry_schedule_s`` (Standard
  Webhooks' 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h by default) with jitter; a Retry-After
  lengthens a wait (up to ``retry_after_max_s``) but never shortens it, so a receiver asking for
  1 s cannot spend a day's attempts in a minute. Never retried: another 4xx, an SMTP 5xx, and an
  unexpected error building or sending the delivery (a bug, or data the channel cannot carry).
  The first ``delivery_quick_attempts`` are made at once, in process (a timeout, or a wait over
  5 s, ends them early); a delivery still failing then is parked in the durable retry queue
  (:mod:`services.notify.adapters.valkey.retry_queue`) and the consumer moves on (its batch commits: the queue holds
  the delivery). A worker loop re-attempts parked deliveries when due, one attempt more than the
  schedule has waits, then the delivery goes to the dead-letter topic and
  ``waspada_deadletter_total{stage="notify",reason}``, and its body is kept for a redelivery
  (:mod:`services.notify.adapters.valkey.dead_letters`).
- One delivery id is never attempted by two tasks of a process at once (a replayed batch and the
  retry worker take turns), nor by two replicas (the queue's lease).
- An attempt and the log entry after it are one unit that a cancellation does not cut: shutdown
  waits for the units in flight (:meth:`Deliverer.drain`), so a webhook answered 200 is logged
  before the process exits.
- Concurrency is bounded per process by a semaphore held only during an attempt, never during
  a backoff wait.
"""

import asyncio
import contextlib
import email.utils
import json
import random
import smtplib
import time
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from enum import StrEnum
from functools import cached_property
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiokafka.errors import KafkaError
from pydantic import ValidationError
from redis.asyncio import Redis
from redis.exceptions import RedisError

from schemas.deadletter import DeadLetter, DeliverySource
from schemas.escalation import Escalation
from services.common import valkey_keys
from services.common.logs import get_logger
from services.notify.adapters import metrics
from services.notify.adapters.valkey import dead_letters, retry_queue, store
from services.notify.core import payload, signing
from services.notify.core.aio import sleep_unless
from services.notify.core.directory import Channel, Directory, EmailChannel, Office, WebhookChannel
from services.notify.core.payload import Notice
from services.notify.settings import NotifySettings

log = get_logger("waspada.notify.delivery")
WEBHOOK_NAMESPACE = uuid.UUID("1d0c8a52-2f7e-4b8e-a7c3-5e4f9b6d2a01")
LOG_TTL_S = 90 * 24 * 3600
"""How long the notification log remembers a delivery: far beyond any replay of the topic."""
QUICK_WAIT_MAX_S = 5.0
"""A wait longer than this (a long Retry-After) is never slept in process: the delivery is parked."""
REMEMBERED = 100_000
"""Delivery ids this process remembers as delivered, besides the notification log in Valkey."""


def webhook_id(escalation_id: str, office_id: str, step: int = 0, channel_index: int = 0) -> str:
    """Stable across retries and restarts: one per escalation revision, office, escalation step and channel."""
    name = f"{escalation_id}:{office_id}" + (f":{step}:{channel_index}" if step or channel_index else "")
    return "msg_" + uuid.uuid5(WEBHOOK_NAMESPACE, name).hex


OUTAGES: tuple[type[Exception], ...] = (RedisError, KafkaError, OSError)
"""A dependency away (Valkey, Kafka, the network): the batch is replayed, since a retry mends it."""


async def delivered(redis: Redis, delivery_id: str) -> bool:
    """The notification log has it: a receiver answered 2xx (or SMTP took it)."""
    return bool(await redis.exists(valkey_keys.delivered(delivery_id)))


class Outcome(StrEnum):
    DELIVERED = "delivered"
    ALREADY_DELIVERED = "already_delivered"
    RETRYING = "retrying"
    """Parked in the retry queue: settled for the consumer, the retry worker owns it now."""
    DEAD_LETTERED = "dead_lettered"
    SKIPPED = "skipped"


class Retryable(Exception):
    """A failure worth another attempt (429, 5xx, timeout, connection)."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class Permanent(Exception):
    """A failure another attempt would not fix (a 4xx other than 429, SMTP 5xx)."""

    deadletter_reason = "delivery_rejected"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Unexpected(Permanent):
    """Any other error building or sending a delivery (the e-mail builder refusing a header, a bug).

    Dead-lettered at once with its type: retried, it would fail the same way; raised, it would fail
    the consumer's batch, which would replay forever and hold back the partition behind it.
    """

    deadletter_reason = "delivery_error"

    def __init__(self, error: Exception) -> None:
        super().__init__(type(error).__name__)
        self.error = error


@dataclass(frozen=True)
class Delivery:
    """One notification to one channel of one office."""

    escalation: Escalation
    office: Office
    channel: Channel
    channel_index: int
    notice: Notice

    @cached_property  # read a dozen times per delivery; a uuid5 each time was 5 % of notify's CPU
    def id(self) -> str:
        return webhook_id(self.escalation.escalation_id, self.office.id, self.notice.step, self.channel_index)

    def to_json(self, attempts: int, last_error: str) -> str:
        """What the retry queue keeps to attempt it again (the office by id: secrets stay in the directory)."""
        return json.dumps(
            {
                "escalation": self.escalation.model_dump(mode="json"),
                "office_id": self.office.id,
                "channel_index": self.channel_index,
                "notice": {
                    "kind": self.notice.kind,
                    "step": self.notice.step,
                    "jurisdiction_uncertain": self.notice.jurisdiction_uncertain,
                },
                "attempts": attempts,
                "last_error": last_error,
            }
        )


def delivery_from_json(directory: Directory, data: dict[str, Any]) -> Delivery | None:
    """A parked delivery again; None when its office or channel is no longer in the directory."""
    office = directory.get(data["office_id"])
    index = int(data["channel_index"])
    if office is None or not 0 <= index < len(office.channels):
        return None
    notice = Notice(data["notice"]["kind"], int(data["notice"]["step"]), bool(data["notice"]["jurisdiction_uncertain"]))
    escalation = Escalation.model_validate(data["escalation"])
    return Delivery(escalation, office, office.channels[index], index, notice)


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds: delta-seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def backoff_s(
    attempts: int,
    *,
    schedule: tuple[float, ...],
    retry_after: float | None = None,
    retry_after_max: float = 3600.0,
    jitter: Callable[[], float] = random.random,
) -> float:
    """The wait after ``attempts`` failed attempts: ``schedule[attempts-1]`` less up to 20 % jitter (so that
    deliveries failing together do not come back together), or the receiver's Retry-After when that is
    longer (up to ``retry_after_max``). Past the schedule's end its last wait."""
    scheduled = schedule[min(attempts, len(schedule)) - 1] * (1.0 - 0.2 * jitter())
    asked = min(max(0.0, retry_after), retry_after_max) if retry_after is not None else 0.0
    return max(scheduled, asked)


def _smtp_send(url: str, message: EmailMessage, timeout: float) -> None:
    parts = urlsplit(url)
    with smtplib.SMTP(parts.hostname or "localhost", parts.port or 25, timeout=timeout) as smtp:
        smtp.send_message(message)


def _smtp_failure(error: Exception) -> Exception:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        return Permanent(f"smtp_{min(codes)}") if codes and min(codes) >= 500 else Retryable("smtp_refused")
    if isinstance(error, smtplib.SMTPResponseException):
        reason = f"smtp_{error.smtp_code}"
        return Permanent(reason) if error.smtp_code >= 500 else Retryable(reason)
    return Retryable("smtp_connection")


class Deliverer:
    """Sends deliveries with quick retries, the durable retry queue, the notification log and the dead-letter topic."""

    def __init__(
        self,
        settings: NotifySettings,
        redis: Redis,
        client: aiohttp.ClientSession,
        deadletter: Callable[[bytes, bytes], Awaitable[None]],
        directory: Directory,
    ) -> None:
        self.settings = settings
        self.redis = redis
        self.client = client
        self.deadletter = deadletter
        self.directory = directory
        self.slots = asyncio.Semaphore(settings.delivery_concurrency)
        self.stopping = asyncio.Event()
        """Set on shutdown: no quick retry waits any more (the delivery is parked), the retry worker stops."""
        self._delivered: OrderedDict[str, None] = OrderedDict()
        self._locks: dict[str, tuple[asyncio.Lock, list[int]]] = {}
        self._units: set[asyncio.Future[None]] = set()
        self._retries: set[asyncio.Task[None]] = set()

    # -- one delivery at a time per id ------------------------------------------------------------
    @contextlib.asynccontextmanager
    async def _exclusive(self, delivery_id: str) -> AsyncIterator[None]:
        lock, users = self._locks.setdefault(delivery_id, (asyncio.Lock(), [0]))
        users[0] += 1
        try:
            async with lock:
                yield
        finally:
            users[0] -= 1
            if users[0] == 0:
                self._locks.pop(delivery_id, None)

    def _remember(self, delivery_id: str) -> None:
        self._delivered[delivery_id] = None
        self._delivered.move_to_end(delivery_id)
        while len(self._delivered) > REMEMBERED:
            self._delivered.popitem(last=False)

    def backoff(self, attempts: int, error: Retryable) -> float:
        return backoff_s(
            attempts,
            schedule=self.settings.retry_schedule_s,
            retry_after=error.retry_after,
            retry_after_max=self.settings.retry_after_max_s,
        )

    # -- the consumer's and the timers' path ------------------------------------------------------
    async def deliver(self, delivery: Delivery, *, first_sight: bool = False) -> Outcome:
        """Deliver, or confirm an earlier success, or park in the retry queue, or dead-letter.

        Returns once the delivery is settled for the caller: the consumer may commit then.
        ``first_sight``: its revision was stored just now (SET NX), so it cannot have been delivered
        or parked before, and the notification log is not asked (a round trip per delivery saved).
        """
        async with self._exclusive(delivery.id):
            return await self._deliver(delivery, first_sight)

    async def _deliver(self, delivery: Delivery, first_sight: bool) -> Outcome:
        if delivery.id in self._delivered:
            return Outcome.ALREADY_DELIVERED
        if not first_sight:
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.exists(valkey_keys.delivered(delivery.id))
                pipe.zscore(valkey_keys.RETRY_DUE, delivery.id)
                logged, parked = await pipe.execute()
            if logged:
                self._remember(delivery.id)
                return Outcome.ALREADY_DELIVERED
            if parked is not None:
                return Outcome.RETRYING
        if isinstance(delivery.channel, EmailChannel) and not self.settings.smtp_url:
            metrics.NOTIFICATIONS.labels("email", "skipped").inc()
            await self._record(delivery, Outcome.SKIPPED, 0, "smtp_not_configured")
            return Outcome.SKIPPED
        attempts = 0
        while True:
            attempts += 1
            try:
                await self._attempt_logged(delivery, attempts)
                return Outcome.DELIVERED
            except Permanent as error:
                await self._dead_letter(delivery, attempts, error)
                return Outcome.DEAD_LETTERED
            except Retryable as error:
                if attempts >= self.settings.delivery_attempts:
                    await self._dead_letter(delivery, attempts, error)
                    return Outcome.DEAD_LETTERED
                wait = self.backoff(attempts, error)
                due = time.time() + wait
                # a timeout already held the batch for a whole webhook timeout: park it at once
                quick = (
                    attempts < self.settings.delivery_quick_attempts
                    and wait <= QUICK_WAIT_MAX_S
                    and error.reason != "timeout"
                )
                if not quick or self.stopping.is_set() or await sleep_unless(self.stopping, wait):
                    await self._park(delivery, attempts, error, due)
                    return Outcome.RETRYING

    async def _park(self, delivery: Delivery, attempts: int, error: Retryable, due: float) -> None:
        await retry_queue.park(self.redis, delivery.id, delivery.to_json(attempts, error.reason), due)
        metrics.NOTIFICATIONS.labels(delivery.channel.type, "retrying").inc()
        await self._record(delivery, Outcome.RETRYING, attempts, error.reason)
        log.info(
            "notify.parked",
            delivery_id=delivery.id,
            office=delivery.office.id,
            attempts=attempts,
            reason=error.reason,
            retry_in_s=round(due - time.time(), 1),
        )

    # -- the retry worker -------------------------------------------------------------------------
    async def run_retries(self) -> None:
        """Attempt parked deliveries when due, until shutdown begins."""
        failing = False
        while not self.stopping.is_set():
            room = 2 * self.settings.delivery_concurrency - len(self._retries)
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
                self._retries.add(task)
                task.add_done_callback(self._retry_done)
            if self._retries and len(claimed) >= room:
                # more may be due (a receiver is back after an outage): claim again as soon as one ends
                await asyncio.wait(
                    set(self._retries), timeout=self.settings.retry_poll_s, return_when=asyncio.FIRST_COMPLETED
                )
            else:
                await sleep_unless(self.stopping, self.settings.retry_poll_s * (4 if failing else 1))

    def _retry_done(self, task: asyncio.Task[None]) -> None:
        self._retries.discard(task)
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
        async with self._exclusive(delivery_id):
            if delivery_id in self._delivered or await self.redis.exists(valkey_keys.delivered(delivery_id)):
                await retry_queue.done(self.redis, delivery_id)
                return
            attempts = int(data["attempts"]) + 1
            try:
                await self._attempt_logged(delivery, attempts)
            except Permanent as error:
                await self._dead_letter(delivery, attempts, error)
            except Retryable as error:
                if attempts >= self.settings.delivery_attempts:
                    await self._dead_letter(delivery, attempts, error)
                else:
                    await self._park(delivery, attempts, error, time.time() + self.backoff(attempts, error))
                    return
            await retry_queue.done(self.redis, delivery_id)

    # -- shutdown ---------------------------------------------------------------------------------
    async def drain(self, timeout: float) -> int:
        """Wait up to ``timeout`` for retries and attempts in flight to end (and be logged); how many did not."""
        pending = {*self._retries, *self._units}
        if not pending:
            return 0
        _, still = await asyncio.wait(pending, timeout=timeout)
        return len(still)

    # -- one attempt and its log entry ------------------------------------------------------------
    async def _attempt_logged(self, delivery: Delivery, attempts: int) -> None:
        """One attempt and, on success, its log entry, as a unit no cancellation cuts in two."""
        unit = asyncio.ensure_future(self._attempt_then_log(delivery, attempts))
        self._units.add(unit)
        unit.add_done_callback(self._unit_done)
        await asyncio.shield(unit)

    def _unit_done(self, unit: asyncio.Future[None]) -> None:
        self._units.discard(unit)
        if not unit.cancelled():
            unit.exception()  # retrieved here too, for a unit whose caller was cancelled

    async def _attempt_then_log(self, delivery: Delivery, attempts: int) -> None:
        await self._attempt(delivery)
        self._remember(delivery.id)
        if await self._log_success(delivery, attempts):
            _observe_end_to_end(delivery.escalation)
        metrics.NOTIFICATIONS.labels(delivery.channel.type, "delivered").inc()

    async def _log_success(self, delivery: Delivery, attempts: int) -> bool:
        """The notification log entry and the console's delivery row, retried until Valkey takes them.

        True when this was the revision's first delivery across replicas (its end-to-end latency is
        observed once): a SET NX in the same transaction, not a round trip of its own.
        """
        entry = json.dumps(entry_of(delivery, Outcome.DELIVERED, attempts))
        escalation = delivery.escalation
        wait, failures = 0.1, 0
        while True:
            try:
                async with self.redis.pipeline(transaction=True) as pipe:
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

    async def _attempt(self, delivery: Delivery) -> None:
        started = time.monotonic()
        try:
            async with self.slots:
                if isinstance(delivery.channel, WebhookChannel):
                    await self._post(delivery, delivery.channel)
                else:
                    await self._mail(delivery, delivery.channel)
        except (Retryable, Permanent) as error:
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

    async def _post(self, delivery: Delivery, channel: WebhookChannel) -> None:
        body = payload.webhook_body(delivery.escalation, delivery.notice, self.settings.public_url)
        headers = signing.headers(channel.secret, delivery.id, int(time.time()), body)
        try:
            async with self.client.post(channel.url, data=body, headers=headers, allow_redirects=False) as response:
                await response.read()  # the whole answer, so the connection goes back to the pool
                status, retry_after = response.status, response.headers.get("retry-after")
        except TimeoutError:
            raise Retryable("timeout") from None
        except aiohttp.ClientError:
            raise Retryable("connection") from None
        if 200 <= status < 300:
            return
        reason = f"http_{status}"
        if status == 429 or status >= 500:
            raise Retryable(reason, retry_after_seconds(retry_after))
        raise Permanent(reason)

    async def _mail(self, delivery: Delivery, channel: EmailChannel) -> None:
        assert self.settings.smtp_url is not None
        message = payload.email(
            delivery.escalation,
            delivery.notice,
            self.settings.public_url,
            to=channel.to,
            sender=self.settings.smtp_from,
            message_id=delivery.id,
        )
        try:
            await asyncio.to_thread(_smtp_send, self.settings.smtp_url, message, self.settings.webhook_timeout_s)
        except (smtplib.SMTPException, OSError) as error:
            raise _smtp_failure(error) from None

    async def _dead_letter(self, delivery: Delivery, attempts: int, error: Retryable | Permanent) -> None:
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
        await self.deadletter(delivery.escalation.desa_code.encode(), body.to_bytes())
        await self._record(delivery, Outcome.DEAD_LETTERED, attempts, error.reason)
        log.warning("notify.dead_lettered", delivery_id=delivery.id, office=delivery.office.id, reason=error.reason)

    async def _record(self, delivery: Delivery, outcome: Outcome, attempts: int, error: str | None = None) -> None:
        await record(self.redis, delivery, outcome, attempts, error)


def entry_of(delivery: Delivery, outcome: Outcome, attempts: int, error: str | None = None) -> dict[str, Any]:
    """The console's row of a delivery: office, channel, notice, outcome, attempts so far."""
    entry: dict[str, Any] = {
        "office_id": delivery.office.id,
        "office_name": delivery.office.name,
        "channel": delivery.channel.type,
        "kind": delivery.notice.kind,
        "step": delivery.notice.step,
        "outcome": outcome.value,
        "attempts": attempts,
        "at": store.now_iso(),
    }
    if error:
        entry["error"] = error
    return entry


async def record(redis: Redis, delivery: Delivery, outcome: Outcome, attempts: int, error: str | None = None) -> None:
    """Write the console's row of a delivery (not the notification log: that is written on success only)."""
    entry = entry_of(delivery, outcome, attempts, error)
    await store.record_delivery(redis, delivery.escalation.escalation_id, delivery.id, entry)


def _error_entry(attempts: int, error: Retryable | Permanent) -> dict[str, Any]:
    """What the dead-letter record says of the last failure: for an unexpected one, its type and message."""
    entry: dict[str, Any] = {"attempts": attempts, "last_error": error.reason}
    if isinstance(error, Unexpected):
        entry |= {"error": type(error.error).__name__, "message": str(error.error)[:300]}
    return entry


def _observe_end_to_end(escalation: Escalation) -> None:
    """Ingest (the first report's arrival) to this revision's first delivery."""
    if escalation.first_received_at is not None:
        seconds = (datetime.now(UTC) - escalation.first_received_at).total_seconds()
        metrics.END_TO_END_SECONDS.observe(max(0.0, seconds))
