"""The escalation consumer: one consumer group across notify replicas, offsets committed after handling."""

import asyncio

import httpx
from aiokafka import AIOKafkaConsumer
from pydantic import ValidationError
from redis.asyncio import Redis

from schemas.escalation import Escalation
from schemas.topics import Topics
from services.common.logs import get_logger
from services.notify import metrics, router
from services.notify.directory import Directory

log = get_logger("waspada.notify.consumer")
GROUP = "waspada-notify"


async def run(bootstrap: str, directory: Directory, redis: Redis, timeout_s: float) -> None:
    """Consume escalations until cancelled."""
    consumer = AIOKafkaConsumer(
        Topics.ESCALATIONS,
        bootstrap_servers=bootstrap,
        group_id=GROUP,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=6000,
        heartbeat_interval_ms=1000,
    )
    await consumer.start()
    try:
        async with httpx.AsyncClient(timeout=timeout_s) as client:
            async for message in consumer:
                try:
                    escalation = Escalation.model_validate_json(message.value)
                except ValidationError:
                    metrics.DEADLETTERS.labels("notify", "invalid_escalation").inc()
                    log.warning("notify.invalid_escalation", offset=message.offset, partition=message.partition)
                else:
                    await router.handle(escalation, directory, client, redis)
                await consumer.commit()
    except asyncio.CancelledError:
        raise
    finally:
        await consumer.stop()
