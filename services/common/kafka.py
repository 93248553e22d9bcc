"""Kafka plumbing shared by the services: topic creation and a producer with the house settings."""

import asyncio
import contextlib
import logging
from collections.abc import Iterable

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError, TopicAlreadyExistsError

from schemas.topics import PARTITIONS, RETENTION_MS, topic_config

log = logging.getLogger(__name__)


async def ensure_topics(
    bootstrap: str, topics: Iterable[str], partitions: int = PARTITIONS, replication: int = 1
) -> None:
    """Create the topics that are missing, with the project's partition count (CONTRACT §4) and configs.

    A Waspada topic gets its ``schemas.topics.topic_config`` (retention, delete policy); any other (a
    test's, the bench's) the broker's defaults.

    ``replication`` is explicit (``WASPADA_KAFKA_REPLICATION_FACTOR``): aiokafka speaks CreateTopics
    v0-v3 only, which cannot ask for the broker's ``default.replication.factor`` (-1 needs v4).
    """
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [
            NewTopic(name, partitions, replication, topic_configs=topic_config(name) if name in RETENTION_MS else {})
            for name in topics
            if name not in existing
        ]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):  # another service created it first
                await admin.create_topics(missing)
    finally:
        await admin.close()


async def wait_for_kafka(bootstrap: str, timeout: float = 30.0) -> None:
    """Return once Kafka answers a metadata request; raise TimeoutError after ``timeout`` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=2000)
        try:
            await admin.start()
            await admin.list_topics()
            return
        except (KafkaConnectionError, OSError) as exc:
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"Kafka at {bootstrap} did not answer within {timeout:.0f} s") from exc
            await asyncio.sleep(0.5)
        finally:
            await admin.close()


def make_producer(bootstrap: str, *, idempotent: bool, linger_ms: int = 2) -> AIOKafkaProducer:
    """A producer that waits for every in-sync replica (acks=all) before it reports success.

    ``idempotent``: ``WASPADA_KAFKA_IDEMPOTENT_PRODUCER`` (``settings.kafka_idempotent_producer``), true by
    default as production runs Apache Kafka, false on the embedded broker (no InitProducerId there; the
    devstack sets it). No default here, so that no caller forgets it.
    """
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=idempotent,
        linger_ms=linger_ms,
        max_batch_size=256 * 1024,  # batches of ingest's batch endpoint fill 16 KiB (the default) in ~30 events
        request_timeout_ms=10_000,
    )
