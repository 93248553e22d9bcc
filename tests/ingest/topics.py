"""Reading whole topics back (from the first offset to the current end), to check what ingest wrote."""

import asyncio
from collections.abc import Iterable

from aiokafka import AIOKafkaConsumer, TopicPartition


async def _read(bootstrap: str, topics: Iterable[str]) -> list[tuple[str, bytes, list[tuple[str, bytes]]]]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None)
    await consumer.start()
    try:
        await consumer.topics()  # metadata of every topic, so partitions_for_topic knows them
        parts = [TopicPartition(t, p) for t in topics for p in sorted(consumer.partitions_for_topic(t) or [])]
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        ends = await consumer.end_offsets(parts)
        out = []
        while [tp for tp in parts if await consumer.position(tp) < ends[tp]]:
            batches = await consumer.getmany(timeout_ms=500)
            for tp, messages in batches.items():
                out += [(tp.topic, m.value or b"", list(m.headers)) for m in messages if m.offset < ends[tp]]
        return out
    finally:
        await consumer.stop()


def read_topics(bootstrap: str, topics: Iterable[str]) -> list[tuple[str, bytes, list[tuple[str, bytes]]]]:
    """Every record now on ``topics``: (topic, value, headers)."""
    return asyncio.run(asyncio.wait_for(_read(bootstrap, list(topics)), 60))
