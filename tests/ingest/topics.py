"""Reading whole topics back, to check what ingest wrote.

Not by end offsets: the embedded Tansu broker reports a partition's end offset as the *base*
offset of its last record batch plus one, so the other records of that batch would be missed.
Instead the reader polls until the topics stay quiet for a second.
"""

import asyncio
from collections.abc import Iterable

from aiokafka import AIOKafkaConsumer

from tests.kafka_log import partitions

Record = tuple[str, bytes, list[tuple[str, bytes]]]


async def _read(bootstrap: str, topics: Iterable[str], quiet_ms: int = 1000) -> list[Record]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None)
    await consumer.start()
    try:
        parts = await partitions(consumer, *topics)
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        out: list[Record] = []
        while batches := await consumer.getmany(timeout_ms=quiet_ms):
            for tp, messages in batches.items():
                out += [(tp.topic, m.value or b"", list(m.headers)) for m in messages]
        return out
    finally:
        await consumer.stop()


def read_topics(bootstrap: str, topics: Iterable[str]) -> list[Record]:
    """Every record now on ``topics``: (topic, value, headers)."""
    return asyncio.run(asyncio.wait_for(_read(bootstrap, list(topics)), 120))
