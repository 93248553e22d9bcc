"""The broker's own view of a topic, for the tests that run on Apache Kafka.

``batches`` reads the record batches straight from a node's segment files (the v2 batch header:
who produced a batch is only there, no client API returns it), ``topic_configs`` and
``set_topic_configs`` speak DescribeConfigs / AlterConfigs.
"""

import asyncio
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

_HEADER = struct.Struct(">qiibIhiqqqhii")
"""baseOffset, batchLength, partitionLeaderEpoch, magic, crc, attributes, lastOffsetDelta,
baseTimestamp, maxTimestamp, producerId, producerEpoch, baseSequence, recordCount (61 bytes)."""


@dataclass(frozen=True)
class Batch:
    """One record batch as the broker stored it."""

    partition: int
    base_offset: int
    last_offset: int
    producer_id: int
    """-1 unless an idempotent (or transactional) producer wrote it: its InitProducerId answer."""
    producer_epoch: int
    records: int


def batches(data_dir: Path, topic: str) -> list[Batch]:
    """Every batch of every partition of ``topic`` under a node's log dir, in offset order per partition."""
    found: list[Batch] = []
    for partition_dir in sorted(data_dir.glob(f"{topic}-*")):
        partition = int(partition_dir.name.rsplit("-", 1)[1])
        for segment in sorted(partition_dir.glob("*.log")):
            found.extend(_segment(partition, segment.read_bytes()))
    return found


def _segment(partition: int, data: bytes) -> Iterator[Batch]:
    position = 0
    while position + _HEADER.size <= len(data):
        base, length, _, magic, _, _, last_delta, _, _, pid, epoch, _, count = _HEADER.unpack_from(data, position)
        if length <= 0 or magic != 2:  # a torn tail, or nothing but v2 from this Kafka
            return
        yield Batch(partition, base, base + last_delta, pid, epoch, count)
        position += 12 + length


async def _admin(bootstrap: str) -> AIOKafkaAdminClient:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    return admin


def topic_configs(bootstrap: str, topic: str) -> dict[str, str]:
    """The topic's effective configs as the broker reports them."""

    async def run() -> dict[str, str]:
        admin = await _admin(bootstrap)
        try:
            (answer,) = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
            (resource,) = answer.resources
            return {str(entry[0]): str(entry[1]) for entry in resource[4]}
        finally:
            await admin.close()

    return asyncio.run(run())


def set_topic_configs(bootstrap: str, topic: str, configs: dict[str, str]) -> None:
    """AlterConfigs: replaces every dynamic config of the topic with ``configs`` (not incremental)."""

    async def run() -> None:
        admin = await _admin(bootstrap)
        try:
            (answer,) = await admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, topic, configs)])
            assert all(resource[0] == 0 for resource in answer.resources), answer
        finally:
            await admin.close()

    asyncio.run(run())


async def partitions(consumer: AIOKafkaConsumer, *topics: str) -> list[TopicPartition]:
    """The partitions of ``topics``, from a metadata request for every topic.

    ``consumer.topics()`` answers from a metadata snapshot of its own and leaves the consumer's cache
    as it was. The embedded broker answers the client's start-up metadata request with every topic, so
    ``partitions_for_topic`` knew them there anyway; Apache Kafka answers it with none.
    """
    cluster = await consumer._client.fetch_all_metadata()
    return [TopicPartition(t, p) for t in topics for p in sorted(cluster.partitions_for_topic(t) or ())]


def end_offsets(bootstrap: str, topic: str) -> dict[int, int]:
    """ListOffsets (latest) of every partition of ``topic``."""

    async def run() -> dict[int, int]:
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
        await consumer.start()
        try:
            found = await partitions(consumer, topic)
            return {tp.partition: end for tp, end in (await consumer.end_offsets(found)).items()}
        finally:
            await consumer.stop()

    return asyncio.run(run())
