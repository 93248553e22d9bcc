"""The escalation consumer: one consumer group across notify replicas, offsets committed after handling.

Records are fetched in batches; the incidents of a batch are handled concurrently (the revisions
of one incident in order), and the batch's offsets are committed only once every delivery it
called for is settled (delivered or dead-lettered). A crash before that replays the batch, and
the notification log turns the replay into no-ops for what was already delivered.
"""

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, ConsumerRecord
from pydantic import ValidationError

from schemas.escalation import Escalation
from schemas.topics import Topics
from services.common.logs import get_logger
from services.notify import metrics
from services.notify.router import Router

log = get_logger("waspada.notify.consumer")
GROUP = "waspada-notify"


async def _invalid(message: ConsumerRecord, deadletter: Callable[[bytes, bytes], Awaitable[None]]) -> None:
    metrics.DEADLETTERS.labels("notify", "invalid_escalation").inc()
    log.warning("notify.invalid_escalation", offset=message.offset, partition=message.partition)
    body = {
        "stage": "notify",
        "reason": "invalid_escalation",
        "source": {"topic": message.topic, "partition": message.partition, "offset": message.offset},
        "errors": [],
        "dead_lettered_at": datetime.now(UTC).isoformat(),
    }
    await deadletter(message.key or b"", json.dumps(body).encode())


async def handle_batch(
    messages: list[ConsumerRecord], router: Router, deadletter: Callable[[bytes, bytes], Awaitable[None]]
) -> None:
    """Every message of a batch settled: incidents concurrently, revisions of one incident in order."""
    by_incident: dict[str, list[Escalation]] = {}
    for message in messages:
        try:
            escalation = Escalation.model_validate_json(message.value)
        except ValidationError:
            await _invalid(message, deadletter)
            continue
        by_incident.setdefault(escalation.incident_id, []).append(escalation)

    async def in_order(escalations: list[Escalation]) -> None:
        for escalation in sorted(escalations, key=lambda e: e.revision):
            await router.handle(escalation)

    await asyncio.gather(*(in_order(group) for group in by_incident.values()))


async def run(bootstrap: str, router: Router, deadletter: Callable[[bytes, bytes], Awaitable[None]]) -> None:
    """Consume escalations until cancelled."""
    consumer = AIOKafkaConsumer(
        Topics.ESCALATIONS,
        bootstrap_servers=bootstrap,
        group_id=GROUP,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=6000,
        heartbeat_interval_ms=1000,
        max_poll_interval_ms=900_000,
    )
    await consumer.start()
    try:
        while True:
            batches = await consumer.getmany(timeout_ms=1000, max_records=100)
            messages = [m for part in batches.values() for m in part]
            if not messages:
                continue
            try:
                await handle_batch(messages, router, deadletter)
            except Exception:  # Redis or Kafka away: replay the batch from the committed offsets
                log.exception("notify.batch_failed")
                await asyncio.sleep(1.0)
                await consumer.seek_to_committed()
                continue
            await consumer.commit()
    finally:
        await consumer.stop()
