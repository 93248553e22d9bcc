"""Delivery of one notification to one office channel: signed webhook or e-mail, retried, logged.

- The notification log entry is written only after a success (as Alertmanager's), so a restart
  or a replayed escalation skips exactly what was already delivered and retries the rest.
- Retries (tenacity): exponential backoff with jitter on 429, 5xx, timeouts and connection
  errors, honouring Retry-After up to the backoff cap; never on another 4xx. The number of
  attempts and each wait are bounded, so one dead receiver delays only its own delivery.
- After the last attempt the delivery goes to the dead-letter topic and
  ``waspada_deadletter_total{stage="notify"}``.
- Concurrency is bounded per process by a semaphore held only during an attempt, never during
  a backoff wait.
"""

import asyncio
import email.utils
import json
import smtplib
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

import httpx
from redis.asyncio import Redis
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt
from tenacity.wait import wait_base, wait_exponential_jitter

from schemas.escalation import Escalation
from schemas.topics import Topics
from services.common.logs import get_logger
from services.notify import metrics, payload, signing, store
from services.notify.directory import Channel, EmailChannel, Office, WebhookChannel
from services.notify.payload import Notice
from services.notify.settings import NotifySettings

log = get_logger("waspada.notify.delivery")
WEBHOOK_NAMESPACE = uuid.UUID("1d0c8a52-2f7e-4b8e-a7c3-5e4f9b6d2a01")
LOG_TTL_S = 90 * 24 * 3600
"""How long the notification log remembers a delivery: far beyond any replay of the topic."""


def webhook_id(escalation_id: str, office_id: str, step: int = 0, channel_index: int = 0) -> str:
    """Stable across retries and restarts: one per escalation revision, office, escalation step and channel."""
    name = f"{escalation_id}:{office_id}" + (f":{step}:{channel_index}" if step or channel_index else "")
    return "msg_" + uuid.uuid5(WEBHOOK_NAMESPACE, name).hex


def _log_key(delivery_id: str) -> str:
    return f"{store.PREFIX}:delivered:{delivery_id}"


class Outcome(StrEnum):
    DELIVERED = "delivered"
    ALREADY_DELIVERED = "already_delivered"
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

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Delivery:
    """One notification to one channel of one office."""

    escalation: Escalation
    office: Office
    channel: Channel
    channel_index: int
    notice: Notice

    @property
    def id(self) -> str:
        return webhook_id(self.escalation.escalation_id, self.office.id, self.notice.step, self.channel_index)


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


class _Backoff(wait_base):
    """Exponential backoff with jitter, or the receiver's Retry-After, never above ``cap``."""

    def __init__(self, initial: float, cap: float) -> None:
        self.cap = cap
        self.exponential = wait_exponential_jitter(initial=initial, max=cap, jitter=initial)

    def __call__(self, retry_state: RetryCallState) -> float:
        error = retry_state.outcome.exception() if retry_state.outcome else None
        if isinstance(error, Retryable) and error.retry_after is not None:
            return min(error.retry_after, self.cap)
        return min(float(self.exponential(retry_state)), self.cap)


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
    """Sends deliveries with retries, the notification log and the dead-letter topic."""

    def __init__(
        self,
        settings: NotifySettings,
        redis: Redis,
        client: httpx.AsyncClient,
        deadletter: Callable[[bytes, bytes], Awaitable[None]],
    ) -> None:
        self.settings = settings
        self.redis = redis
        self.client = client
        self.deadletter = deadletter
        self.slots = asyncio.Semaphore(settings.delivery_concurrency)

    async def deliver(self, delivery: Delivery) -> Outcome:
        """Deliver once, or confirm an earlier success; dead-letter after the last attempt."""
        if await self.redis.exists(_log_key(delivery.id)):
            return Outcome.ALREADY_DELIVERED
        if isinstance(delivery.channel, EmailChannel) and not self.settings.smtp_url:
            metrics.NOTIFICATIONS.labels("email", "skipped").inc()
            await self._record(delivery, Outcome.SKIPPED, 0, "smtp_not_configured")
            return Outcome.SKIPPED
        attempts = 0
        try:
            async for attempt in self._retrying():
                with attempt:
                    attempts += 1
                    await self._attempt(delivery)
        except (Retryable, Permanent) as error:
            await self._dead_letter(delivery, attempts, error)
            return Outcome.DEAD_LETTERED
        await self.redis.set(_log_key(delivery.id), store.now_iso(), ex=LOG_TTL_S)
        metrics.NOTIFICATIONS.labels(delivery.channel.type, "delivered").inc()
        await self._record(delivery, Outcome.DELIVERED, attempts)
        await self._end_to_end(delivery.escalation)
        return Outcome.DELIVERED

    def _retrying(self) -> AsyncRetrying:
        return AsyncRetrying(
            stop=stop_after_attempt(self.settings.delivery_attempts),
            wait=_Backoff(self.settings.retry_initial_s, self.settings.retry_max_s),
            retry=retry_if_exception_type(Retryable),
            reraise=True,
        )

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
        finally:
            metrics.DELIVERY_SECONDS.observe(time.monotonic() - started)

    async def _post(self, delivery: Delivery, channel: WebhookChannel) -> None:
        body = payload.webhook_body(delivery.escalation, delivery.notice, self.settings.public_url)
        headers = signing.headers(channel.secret, delivery.id, int(time.time()), body)
        try:
            response = await self.client.post(channel.url, content=body, headers=headers)
        except httpx.TimeoutException:
            raise Retryable("timeout") from None
        except httpx.TransportError:
            raise Retryable("connection") from None
        if response.is_success:
            return
        reason = f"http_{response.status_code}"
        if response.status_code == 429 or response.status_code >= 500:
            raise Retryable(reason, retry_after_seconds(response.headers.get("retry-after")))
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
        reason = "delivery_rejected" if isinstance(error, Permanent) else "delivery_failed"
        metrics.DEADLETTERS.labels("notify", reason).inc()
        metrics.NOTIFICATIONS.labels(delivery.channel.type, "dead_lettered").inc()
        body = {
            "stage": "notify",
            "reason": reason,
            "source": {
                "topic": Topics.ESCALATIONS,
                "escalation_id": delivery.escalation.escalation_id,
                "incident_id": delivery.escalation.incident_id,
                "office_id": delivery.office.id,
                "channel": delivery.channel.type,
                "delivery_id": delivery.id,
                "step": delivery.notice.step,
            },
            "errors": [{"attempts": attempts, "last_error": error.reason}],
            "dead_lettered_at": store.now_iso(),
        }
        await self.deadletter(delivery.escalation.desa_code.encode(), json.dumps(body).encode())
        await self._record(delivery, Outcome.DEAD_LETTERED, attempts, error.reason)
        log.warning("notify.dead_lettered", delivery_id=delivery.id, office=delivery.office.id, reason=error.reason)

    async def _record(self, delivery: Delivery, outcome: Outcome, attempts: int, error: str | None = None) -> None:
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
        await store.record_delivery(self.redis, delivery.escalation.escalation_id, delivery.id, entry)

    async def _end_to_end(self, escalation: Escalation) -> None:
        """Observe ingest-to-first-delivery once per revision, across replicas."""
        if escalation.first_received_at is None:
            return
        if await self.redis.set(f"{store.PREFIX}:e2e:{escalation.escalation_id}", "1", nx=True, ex=LOG_TTL_S):
            seconds = (datetime.now(UTC) - escalation.first_received_at).total_seconds()
            metrics.END_TO_END_SECONDS.observe(max(0.0, seconds))
