"""Talking to the test broker directly, as an upstream publisher and as an auditor of topics."""

import asyncio
import json
from collections.abc import Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from schemas.topics import Topics
from tests.kafka_log import partitions

Record = tuple[str, bytes | None, bytes, list[tuple[str, bytes]]]


def event_record(event: dict[str, Any], channel: str | None = "direct", key: str | None = None) -> Record:
    """A record as the project's publisher would write it (keyed by desa_code)."""
    headers = [("waspada-channel", channel.encode())] if channel else []
    topic = Topics.BY_EVENT_TYPE[event["type"]]
    return topic, (key or event["desa_code"]).encode(), json.dumps(event).encode(), headers


def produce(bootstrap: str, records: Sequence[Record], pace_s: float = 0.0) -> None:
    """Send every record and wait for acks=all; ``pace_s`` seconds between records if given."""

    async def run() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=2)
        await producer.start()
        try:
            futures = []
            for topic, key, value, headers in records:
                futures.append(await producer.send(topic, value=value, key=key, headers=headers))
                if pace_s:
                    await asyncio.sleep(pace_s)
            await asyncio.gather(*futures)
        finally:
            await producer.stop()

    asyncio.run(run())


def read_all(bootstrap: str, topic: str) -> list[Any]:
    """Every record of ``topic`` from the beginning up to its current end."""

    async def run() -> list[Any]:
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
        await consumer.start()
        try:
            found = await partitions(consumer, topic)
            if not found:
                return []
            consumer.assign(found)
            await consumer.seek_to_beginning(*found)
            ends = await consumer.end_offsets(found)
            records: list[Any] = []
            while [tp for tp in found if await consumer.position(tp) < ends[tp]]:
                batch = await consumer.getmany(timeout_ms=500)
                for items in batch.values():
                    records.extend(items)
            return records
        finally:
            await consumer.stop()

    return asyncio.run(run())


def consumed_everything(bootstrap: str, group: str, topics: Sequence[str] = Topics.INPUTS) -> bool:
    """True once ``group`` has committed the end offset of every partition of ``topics``."""
    return not uncommitted(bootstrap, group, topics)


def uncommitted(bootstrap: str, group: str, topics: Sequence[str] = Topics.INPUTS) -> list[str]:
    """``topic:partition committed/end`` of every partition whose end ``group`` has not committed yet."""

    async def run() -> list[str]:
        # a consumer that names the group but never subscribes: it reads the group's offsets, never joins
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
        await consumer.start()
        try:
            found = await partitions(consumer, *topics)
            ends = await consumer.end_offsets(found)
            behind = []
            for tp in found:
                committed = await consumer.committed(tp)
                if ends[tp] and (committed is None or committed < ends[tp]):
                    behind.append(f"{tp.topic}:{tp.partition} {committed}/{ends[tp]}")
            return behind
        finally:
            await consumer.stop()

    return asyncio.run(run())
