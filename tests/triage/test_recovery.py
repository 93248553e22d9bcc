"""The end of a changelog partition, as table recovery must see it on the embedded broker.

Tansu answers ListOffsets(latest) with the base offset of the last record batch plus one: a
recovery that trusts it stops before the later records of that batch (the state loses its last
acknowledged writes). ``fetched_ends`` takes the end from a fetch response instead. On Apache
Kafka the listed end is already right (the second test): the correction is a no-op there, kept
because the embedded broker is a supported one.
"""

import asyncio
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from devstack.stack import Stack
from services.common.kafka import ensure_topics
from services.triage.recovery import fetched_ends
from tests.kafka_log import partitions

pytestmark = pytest.mark.integration
TOPIC = "waspada.test.changelog-end"


async def _two_batches(bootstrap: str, topic: str = TOPIC) -> dict[TopicPartition, int]:
    """Ten records in one batch, then five in another, on partition 0; the listed end offsets."""
    await ensure_topics(bootstrap, [topic])
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=50)
    await producer.start()
    try:
        for prefix, count in ((b"a", 10), (b"b", 5)):
            sent = [await producer.send(topic, prefix + bytes([i]), partition=0) for i in range(count)]
            await asyncio.gather(*sent)
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        tps = await partitions(consumer, topic)
        return dict(await consumer.end_offsets(tps))
    finally:
        await consumer.stop()


def test_recovery_reads_a_changelog_partition_to_its_last_record(broker_only: Stack) -> None:
    bootstrap = broker_only.kafka_bootstrap
    assert bootstrap is not None
    listed = asyncio.run(_two_batches(bootstrap))
    partition0 = TopicPartition(TOPIC, 0)
    assert listed[partition0] <= 15  # Tansu says 11 here; Kafka would say 15
    ends = asyncio.run(fetched_ends(bootstrap, listed))
    assert ends[partition0] == 15
    assert all(ends[tp] == listed[tp] for tp in listed if tp != partition0)  # empty partitions stay as listed


@pytest.mark.broker("kafka")
def test_on_apache_kafka_the_listed_end_is_already_the_last_record(infra: Stack) -> None:
    bootstrap = infra.kafka_bootstrap
    assert bootstrap is not None
    topic = f"{TOPIC}.{uuid.uuid4().hex[:8]}"
    listed = asyncio.run(_two_batches(bootstrap, topic))
    assert listed[TopicPartition(topic, 0)] == 15
    assert asyncio.run(fetched_ends(bootstrap, listed)) == listed
