"""The recorder: every escalation revision on the topic into PostgreSQL, in a consumer group of its own.

Recording reads the topic rather than riding on the delivery path, so the two never wait for each
other: while PostgreSQL is down deliveries keep flowing and the recorder's group lags; once it is
back the recorder catches up from its committed offsets (Kafka is the durable buffer, so losing
Valkey meanwhile loses no record). A batch is one transaction, committed to PostgreSQL before its
offsets are committed to Kafka; a replay after a crash writes nothing twice (inserts are keyed by
escalation id).
"""

import asyncio
import contextlib
from collections.abc import Sequence

from aiokafka import AIOKafkaConsumer, ConsumerRecord
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from schemas.escalation import Escalation
from schemas.topics import Topics
from services.common.logs import get_logger
from services.notify.adapters.postgres import store

log = get_logger("waspada.notify.recorder")
GROUP = "waspada-records"
BACKOFF_S = (0.25, 5.0)
DATABASE_AWAY: tuple[type[Exception], ...] = (OperationalError, DBAPIError, OSError)
"""PostgreSQL not answering (or restarting): the batch is written again after a backoff."""


def _escalations(messages: Sequence[ConsumerRecord]) -> list[Escalation]:
    """The valid escalations of a batch; an invalid one is notify's consumer's to dead-letter, not ours."""
    valid = []
    for message in messages:
        try:
            valid.append(Escalation.model_validate_json(message.value or b""))
        except ValidationError:
            log.info("recorder.skipped_invalid", partition=message.partition, offset=message.offset)
    return valid


async def record_batch(engine: AsyncEngine, messages: Sequence[ConsumerRecord]) -> int:
    """The batch's revisions in one transaction; how many were new."""
    new = 0
    async with engine.begin() as conn:
        for escalation in sorted(_escalations(messages), key=lambda e: (e.incident_id, e.revision)):
            new += await store.record_revision(conn, escalation, ())
    return new


async def run(bootstrap: str, engine: AsyncEngine, stopping: asyncio.Event) -> None:
    """Record until ``stopping`` is set; then commit what was recorded and leave the group."""
    consumer = AIOKafkaConsumer(
        Topics.ESCALATIONS,
        bootstrap_servers=bootstrap,
        group_id=GROUP,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=100,
        session_timeout_ms=6000,
        heartbeat_interval_ms=1000,
        max_poll_interval_ms=900_000,
    )
    await consumer.start()
    backoff = BACKOFF_S[0]
    try:
        while not stopping.is_set():
            batches = await consumer.getmany(timeout_ms=200, max_records=500)
            messages = [m for part in batches.values() for m in part]
            if not messages:
                continue
            try:
                await record_batch(engine, messages)
            except DATABASE_AWAY as error:
                log.warning("recorder.database_away", error=type(error).__name__, retry_in_s=backoff)
                await _wait(stopping, backoff)
                backoff = min(BACKOFF_S[1], backoff * 2)
                for partition, part in batches.items():
                    if partition in consumer.assignment():
                        consumer.seek(partition, min(m.offset for m in part))
                continue
            await consumer.commit()
            backoff = BACKOFF_S[0]
    finally:
        await consumer.stop()


async def _wait(stopping: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stopping.wait(), seconds)
