"""The escalation consumer: one consumer group across notify replicas, offsets committed after handling.

Records are fetched in batches; the incidents of a batch are handled concurrently (the revisions
of one incident in order), and the batch's offsets are committed only once every delivery it
called for is settled (delivered or dead-lettered). A crash before that replays the batch, and
the notification log turns the replay into no-ops for what was already delivered. A delivery
still failing after its quick attempts is parked in the durable retry queue, which counts as
settled, so one receiver that is down never holds the batch back.

The loop never dies of a dependency: a batch that fails (Valkey or Kafka away) is replayed from
its first offsets (the committed ones) after a backoff (0.25 s doubling up to 5 s). A record that
fails in a way no replay mends goes to the dead-letter topic with its reason instead, and the batch
commits past it: an invalid escalation (``invalid_escalation``, with the fields at fault), or one
whose handling raised anything but an outage (``processing_error``, with the error's type). A
replayed batch would fail on it again, forever, and nothing behind it on its partition would be
delivered. On shutdown it stops fetching,
finishes the batch in hand (quick retries are parked rather than waited for), commits and leaves
the group. A commit that fails or takes over 5 s (the group rebalanced meanwhile, its coordinator stalled or
moved) is logged and the loop goes on: the batch's deliveries are in the notification log, so whoever replays
it from the last committed offsets replays no-ops.
"""

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord
from aiokafka.errors import KafkaError
from pydantic import ValidationError
from redis.exceptions import RedisError

from schemas.escalation import Escalation
from schemas.topics import Topics
from services.common.logs import get_logger
from services.notify import metrics
from services.notify.aio import settle_all, sleep_unless
from services.notify.delivery import OUTAGES
from services.notify.router import Router

log = get_logger("waspada.notify.consumer")
GROUP = "waspada-notify"
FETCH_MAX_WAIT_MS = 20
"""How long the broker holds a fetch for more data: topic to webhook in tens of milliseconds."""
BACKOFF_S = (0.25, 5.0)
REQUEST_TIMEOUT_MS = 10_000
"""A request the broker does not answer is given up after 10 s, not aiokafka's 40 s: a stalled (SIGSTOPped)
coordinator otherwise held a commit, and every delivery behind it, for as long as the stall lasted (a 30 s stall
of one of three nodes stopped notify for 39 s while Kafka had moved the group to another node after 6 s).
It stays above the rebalance timeout (the session's 6 s), which a JoinGroup may legitimately wait."""
COMMIT_TIMEOUT_S = 5.0
"""How long a batch's commit may hold the loop. aiokafka retries a commit that timed out against the coordinator
it still believes in, so a stalled coordinator held it 3 x 10 s (the whole 30 s stall of the drill) although the
group had a new coordinator after ~10 s; the next batch's commit covers this one's offsets anyway."""
DeadLetter = Callable[[bytes, bytes], Awaitable[None]]


async def _dead_letter(
    message: ConsumerRecord, deadletter: DeadLetter, reason: str, errors: list[dict[str, Any]]
) -> None:
    """The record to the dead-letter topic, by where it was (its offset: an operator can read it again)."""
    metrics.DEADLETTERS.labels("notify", reason).inc()
    log.warning(f"notify.{reason}", offset=message.offset, partition=message.partition, errors=errors)
    body = {
        "stage": "notify",
        "reason": reason,
        "source": {"topic": message.topic, "partition": message.partition, "offset": message.offset},
        "errors": errors,
        "dead_lettered_at": datetime.now(UTC).isoformat(),
    }
    await deadletter(message.key or b"", json.dumps(body).encode())


def _invalid_fields(error: ValidationError) -> list[dict[str, Any]]:
    """Where and why, never the value (a dead-letter record is read by operators, not officers)."""
    return [{"loc": ".".join(str(p) for p in e["loc"]), "type": e["type"]} for e in error.errors()[:20]]


async def _handle(message: ConsumerRecord, escalation: Escalation, router: Router, deadletter: DeadLetter) -> None:
    """One record handled, or dead-lettered when it fails in a way a replay would not mend."""
    try:
        await router.handle(escalation)
    except OUTAGES:
        raise
    except Exception as error:
        log.exception("notify.processing_error", escalation_id=escalation.escalation_id)
        found = {"error": type(error).__name__, "message": str(error)[:300], "escalation_id": escalation.escalation_id}
        await _dead_letter(message, deadletter, "processing_error", [found])


async def handle_batch(messages: list[ConsumerRecord], router: Router, deadletter: DeadLetter) -> None:
    """Every message of a batch settled: incidents concurrently, revisions of one incident in order."""
    by_incident: dict[str, list[tuple[ConsumerRecord, Escalation]]] = {}
    for message in messages:
        try:
            escalation = Escalation.model_validate_json(message.value or b"")
        except ValidationError as error:
            await _dead_letter(message, deadletter, "invalid_escalation", _invalid_fields(error))
            continue
        by_incident.setdefault(escalation.incident_id, []).append((message, escalation))

    async def in_order(records: list[tuple[ConsumerRecord, Escalation]]) -> None:
        for message, escalation in sorted(records, key=lambda r: r[1].revision):
            await _handle(message, escalation, router, deadletter)

    await settle_all((in_order(group) for group in by_incident.values()), outages_first=OUTAGES)


async def run(
    bootstrap: str,
    router: Router,
    deadletter: Callable[[bytes, bytes], Awaitable[None]],
    stopping: asyncio.Event,
) -> None:
    """Consume escalations until ``stopping`` is set; then commit what was handled and leave the group."""
    consumer = AIOKafkaConsumer(
        Topics.ESCALATIONS,
        bootstrap_servers=bootstrap,
        group_id=GROUP,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=FETCH_MAX_WAIT_MS,
        session_timeout_ms=6000,
        heartbeat_interval_ms=1000,
        max_poll_interval_ms=900_000,
        request_timeout_ms=REQUEST_TIMEOUT_MS,
    )
    await consumer.start()
    backoff = BACKOFF_S[0]
    try:
        while not stopping.is_set():
            batches = await consumer.getmany(timeout_ms=200, max_records=100)
            messages = [m for part in batches.values() for m in part]
            if not messages:
                continue
            try:
                await handle_batch(messages, router, deadletter)
            except Exception as error:  # Valkey or Kafka away: replay the batch
                if isinstance(error, RedisError):
                    log.warning("notify.batch_failed", error=type(error).__name__, retry_in_s=backoff)
                else:
                    log.exception("notify.batch_failed", retry_in_s=backoff)
                await sleep_unless(stopping, backoff)
                backoff = min(BACKOFF_S[1], backoff * 2)
                assigned = consumer.assignment()
                for partition, part in batches.items():
                    # back to where this batch began (seek_to_committed would not move a partition the
                    # group never committed on: its failed batch would be skipped, i.e. lost)
                    if partition in assigned:
                        consumer.seek(partition, min(m.offset for m in part))
                continue
            try:
                await asyncio.wait_for(consumer.commit(), COMMIT_TIMEOUT_S)
            except (KafkaError, TimeoutError) as error:  # the batch is handled and logged: a replay is a no-op
                log.warning("notify.commit_failed", error=type(error).__name__)
            backoff = BACKOFF_S[0]
    finally:
        await consumer.stop()
