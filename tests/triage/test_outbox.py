"""Triage's outbox through the real broker: batches keep each partition's order, keyed records land
where Kafka's default partitioner puts them, and ``acknowledged`` means acknowledged."""

import asyncio
from collections import defaultdict

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from devstack.stack import Stack
from services.common.kafka import ensure_topics
from services.triage.outbox import Outbox
from tests.kafka_log import partitions

pytestmark = [pytest.mark.integration, pytest.mark.broker("kafka")]
ORDERED = "waspada.test.outbox-order"
KEYED = "waspada.test.outbox-keyed"
REFERENCE = "waspada.test.outbox-reference"


async def _read(bootstrap: str, topic: str, count: int) -> dict[int, list[tuple[bytes, bytes]]]:
    """The first ``count`` records of ``topic`` as (key, value) per partition, in offset order."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest")
    await consumer.start()
    try:
        consumer.assign(await partitions(consumer, topic))
        out: dict[int, list[tuple[bytes, bytes]]] = defaultdict(list)
        async with asyncio.timeout(30):
            while sum(map(len, out.values())) < count:
                for tp, records in (await consumer.getmany(timeout_ms=500)).items():
                    out[tp.partition].extend((r.key or b"", r.value or b"") for r in records)
        return out
    finally:
        await consumer.stop()


async def _many_batches_in_order(bootstrap: str) -> dict[int, list[tuple[bytes, bytes]]]:
    await ensure_topics(bootstrap, [ORDERED])
    outbox = Outbox(bootstrap, idempotent=False)
    acks = []
    for i in range(3000):  # ~2 KB each: a batch fills every few records, so many batches per partition
        acks.append(await outbox.send(ORDERED, b"k", b"%06d" % i + b"x" * 2000, partition=i % 2))
        if i % 100 == 0:
            await asyncio.sleep(0)  # let the linger timer and full-batch flushes interleave with sends
    await outbox.acknowledged()
    assert all(ack.done() and ack.exception() is None for ack in acks)
    await outbox.stop()
    return await _read(bootstrap, ORDERED, 3000)


def test_records_keep_their_order_per_partition_across_many_batches(broker_only: Stack) -> None:
    assert broker_only.kafka_bootstrap
    found = asyncio.run(_many_batches_in_order(broker_only.kafka_bootstrap))
    for partition in (0, 1):
        numbers = [int(value[:6]) for _, value in found[partition]]
        assert numbers == list(range(partition, 3000, 2))


async def _keyed(bootstrap: str, keys: list[bytes]) -> tuple[dict[int, list[tuple[bytes, bytes]]], dict[bytes, int]]:
    await ensure_topics(bootstrap, [KEYED, REFERENCE])
    outbox = Outbox(bootstrap, idempotent=False)
    for key in keys:
        await outbox.send(KEYED, key, b"v")
    await outbox.acknowledged()
    await outbox.stop()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)  # what aiokafka's own send picks
    await producer.start()
    try:
        reference = {key: (await (await producer.send(REFERENCE, b"v", key=key))).partition for key in keys}
    finally:
        await producer.stop()
    return await _read(bootstrap, KEYED, len(keys)), reference


def test_a_keyed_record_lands_where_kafkas_default_partitioner_puts_its_key(broker_only: Stack) -> None:
    assert broker_only.kafka_bootstrap
    keys = [f"36.04.13.{2000 + i}".encode() for i in range(40)]
    found, reference = asyncio.run(_keyed(broker_only.kafka_bootstrap, keys))
    landed = {key: partition for partition, records in found.items() for key, _ in records}
    assert landed == reference
    assert len(set(reference.values())) > 1  # the keys spread: the test would see a wrong partitioner
