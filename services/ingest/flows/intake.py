"""Taking events in: validate, check the channel's rights, admit, de-identify, publish, record.

HTTP-free, so the routes stay thin; the decisions themselves are ``core/rules.py``. Order of checks for each event:
422 (invalid) → 403 (type or region not allowed) → 503 (Kafka known down) → 429 (rate)
→ idempotency claim → Kafka with a deadline → published record → 202.
"""

import asyncio
import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Any

from pydantic import ValidationError
from redis.exceptions import RedisError

from schemas.events import ADAPTERS, InputEvent
from services.common.envelope import envelope, headers_for
from services.common.logs import get_logger
from services.ingest.adapters import metrics
from services.ingest.adapters.kafka import KafkaGate
from services.ingest.adapters.valkey import Admission, Claim
from services.ingest.core.channels import Channel
from services.ingest.core.errors import RateLimited, Refusal, unavailable
from services.ingest.core.rules import Result, batch_shape, event_id_of, forbidden
from services.ingest.core.validation import error, field_errors

log = get_logger("waspada.ingest")


def _log_rejected(channel: str, event_type: str, errors: list[dict[str, Any]]) -> None:
    """Field names and error kinds only: never a value."""
    fields = sorted({".".join(str(p) for p in e["loc"][1:]) for e in errors})
    log.info("ingest.rejected", channel=channel, type=event_type, fields=fields[:20])


class Intake:
    """Everything between a parsed body and an answer."""

    def __init__(
        self,
        *,
        admission: Admission,
        gate: KafkaGate,
        pseudonym_key: bytes,
        publish_timeout_s: float,
        retry_after_s: int,
    ) -> None:
        self.admission = admission
        self.gate = gate
        self.pseudonym_key = pseudonym_key
        self.publish_timeout_s = publish_timeout_s
        self.retry_after_s = retry_after_s
        self._late_tasks: set[asyncio.Task[None]] = set()

    # -- one event ------------------------------------------------------------------------
    async def one(self, channel: Channel, event_type: str, raw: Any) -> Result:
        """One event of ``event_type``: its Result, or a Refusal (422, 403, 429, 503)."""
        try:
            event: InputEvent = ADAPTERS[event_type].validate_python(raw)
        except ValidationError as exc:
            errors = field_errors(exc)
            metrics.count(event_type, channel.id, "rejected")
            _log_rejected(channel.id, event_type, errors)
            raise Refusal(422, errors) from None
        if problem := forbidden(channel, event):
            metrics.count(event_type, channel.id, "forbidden")
            raise Refusal(403, problem)
        event_id = str(event.event_id)
        return Result(event_id, (await self._take(channel, {event_id: event}))[event_id])

    # -- a batch --------------------------------------------------------------------------
    async def batch(self, channel: Channel, body: Any) -> list[Result]:
        """Every item of a batch, answered in input order; a Refusal for the whole only on 422, 429, 503."""
        try:
            items = batch_shape.validate_python(body).events
        except ValidationError as exc:
            metrics.count("unknown", channel.id, "rejected")
            raise Refusal(422, field_errors(exc)) from None
        results: list[Result | None] = [None] * len(items)
        firsts: dict[str, int] = {}
        by_id: dict[str, InputEvent] = {}
        for index, item in enumerate(items):
            parsed = self._item(channel, index, item)
            if isinstance(parsed, Result):
                results[index] = parsed
                continue
            event_id = str(parsed.event_id)
            if event_id in firsts:  # the same id twice in one batch: taken once
                results[index] = Result(event_id, "duplicate")
                metrics.count(parsed.type, channel.id, "duplicate")
            else:
                firsts[event_id] = index
                by_id[event_id] = parsed
        statuses = await self._take(channel, by_id)
        for event_id, index in firsts.items():
            results[index] = Result(event_id, statuses[event_id])
        return [r for r in results if r is not None]

    def _item(self, channel: Channel, index: int, item: Any) -> InputEvent | Result:
        loc: tuple[int | str, ...] = ("body", "events", index)
        event_type = item.get("type") if isinstance(item, dict) else None
        if not isinstance(item, dict):
            errors = [error("dict_type", loc, "each event must be a JSON object")]
        elif event_type not in ADAPTERS:
            names = ", ".join(ADAPTERS)
            errors = [error("union_tag_invalid", (*loc, "type"), f"type must be one of {names}", event_type)]
        else:
            try:
                return self._allowed(channel, loc, ADAPTERS[event_type].validate_python(item))
            except ValidationError as exc:
                errors = field_errors(exc, loc)
            except Refusal as refusal:
                metrics.count(event_type, channel.id, "forbidden")
                return Result(event_id_of(item), "rejected", refusal.detail)
        metrics.count(event_type, channel.id, "rejected")
        _log_rejected(channel.id, event_type if event_type in ADAPTERS else "unknown", errors)
        return Result(event_id_of(item), "rejected", errors)

    @staticmethod
    def _allowed(channel: Channel, loc: tuple[int | str, ...], event: InputEvent) -> InputEvent:
        if problem := forbidden(channel, event):
            field = "type" if not channel.may_send(event.type) else "desa_code"
            raise Refusal(403, [error("forbidden", (*loc, field), problem)])
        return event

    # -- admission and publishing ---------------------------------------------------------
    async def _take(self, channel: Channel, by_id: dict[str, InputEvent]) -> dict[str, str]:
        """Publish the events (by event id) not seen before; event id → accepted | duplicate. Refusal 429 / 503."""
        if not by_id:
            return {}
        events = list(by_id.values())
        if not self.gate.ready:
            raise self._unavailable(channel, events, "Kafka cannot take the event now")
        try:
            ticket = await self.admission.admit(channel.id, channel.rate_per_minute, list(by_id))
            await self.admission.settle(ticket, asyncio.get_running_loop().time() + self.publish_timeout_s)
        except RateLimited as limited:
            self._count(channel, events, "rate_limited")
            raise Refusal(
                429,
                f"channel {channel.id} is past its rate of {channel.rate_per_minute} events per minute",
                {"Retry-After": str(limited.retry_after)},
            ) from None
        except RedisError as exc:
            log.warning("ingest.redis_unavailable", error=type(exc).__name__)
            raise self._unavailable(channel, events, "Redis cannot record the event now") from None
        return await self._publish(channel, by_id, ticket.token, ticket.claims)

    async def _publish(
        self, channel: Channel, by_id: dict[str, InputEvent], token: str, claims: dict[str, Claim]
    ) -> dict[str, str]:
        mine = {i: e for i, e in by_id.items() if claims[i] is Claim.CLAIMED}
        if len(mine) + sum(c is Claim.PUBLISHED for c in claims.values()) < len(by_id):  # some still in flight
            await self.admission.release(token, list(mine))
            raise self._unavailable(
                channel, list(by_id.values()), "another request with the same event_id is still in flight"
            )
        headers = headers_for(channel.id, datetime.now(UTC))
        key = self.pseudonym_key
        records = [
            envelope(e, pseudonym_key=key, channel=channel.id, headers=headers, event_id=i) for i, e in mine.items()
        ]
        for record in records:
            if record.scrubbed:
                metrics.SCRUBBED.add(record.scrubbed)
        deadline = asyncio.get_running_loop().time() + self.publish_timeout_s
        started = time.perf_counter()
        sent = await self.gate.send(records, deadline, partial(self._late, token))
        if records:  # a request of duplicates only publishes nothing: no publish latency to observe
            metrics.PUBLISH_SECONDS.observe(time.perf_counter() - started)
        try:
            await self.admission.record_published(sent.acked)
            await self.admission.release(token, sent.failed)
        except RedisError as exc:  # acknowledged all the same: the claim lapses, a retry may republish
            log.warning("ingest.record_failed", error=type(exc).__name__, events=len(sent.acked))
        self._count(channel, [mine[i] for i in sent.acked], "accepted")
        if not sent.complete:
            acked = set(sent.acked)
            raise self._unavailable(
                channel, [e for i, e in mine.items() if i not in acked], "Kafka did not acknowledge in time"
            )
        self._count(channel, [e for i, e in by_id.items() if i not in mine], "duplicate")
        return {i: "accepted" if i in mine else "duplicate" for i in by_id}

    def _late(self, token: str, acked: list[str], failed: list[str]) -> None:
        """Records that resolved after their request was answered 503: record or release them."""
        log.info("ingest.late_outcome", acknowledged=len(acked), failed=len(failed))
        task = asyncio.get_running_loop().create_task(self._settle_late(token, acked, failed))
        self._late_tasks.add(task)
        task.add_done_callback(self._late_tasks.discard)

    async def _settle_late(self, token: str, acked: list[str], failed: list[str]) -> None:
        try:
            await self.admission.record_published(acked)
            await self.admission.release(token, failed)
        except RedisError as exc:  # the claims lapse after inflight_ttl_s
            log.warning("ingest.late_record_failed", error=type(exc).__name__)

    def _unavailable(self, channel: Channel, events: Sequence[InputEvent], why: str) -> Refusal:
        self._count(channel, events, "unavailable")
        return unavailable(why, self.retry_after_s)

    @staticmethod
    def _count(channel: Channel, events: Sequence[InputEvent], status: str) -> None:
        if len(events) == 1:
            metrics.count(events[0].type, channel.id, status)
            return
        for event_type, n in Counter(e.type for e in events).items():
            metrics.count(event_type, channel.id, status, n)
