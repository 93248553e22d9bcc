"""Reading topics and consumer-group lag straight from the broker, as an operator's tools would."""

import asyncio
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.coordinator.protocol import ConsumerProtocolMemberAssignment

from schemas.topics import PARTITIONS


async def read_all(bootstrap: str, topic: str, timeout: float = 20.0) -> list[Any]:
    """Every record of ``topic`` from the beginning up to its end offsets now (no consumer group)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, request_timeout_ms=10_000)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        records: list[Any] = []
        deadline = asyncio.get_running_loop().time() + timeout
        while [tp for tp, end in ends.items() if await consumer.position(tp) < end]:
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"reading {topic}: not at its end after {timeout:.0f} s")
            batch = await consumer.getmany(timeout_ms=500, max_records=5000)
            records.extend(r for rs in batch.values() for r in rs)
        return records
    finally:
        await consumer.stop()


def read_json(bootstrap: str, topic: str) -> list[dict[str, Any]]:
    """The JSON values of ``read_all`` (values that are not JSON objects are left out)."""
    out = []
    for record in asyncio.run(read_all(bootstrap, topic)):
        try:
            value = json.loads(record.value)
        except (TypeError, ValueError):
            continue
        if isinstance(value, dict):
            out.append(value)
    return out


async def group_lag(bootstrap: str, groups: Iterable[str] | None = None) -> dict[str, int]:
    """Messages not yet committed, per consumer group (every group the broker knows when ``groups`` is None).

    Committed offsets are read the way a member reads them (OffsetFetch through a consumer of that
    group that never joins it): the admin client's newer OffsetFetch is not understood by Tansu.
    """
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
    await admin.start()
    try:
        names = list(groups) if groups is not None else sorted(g[0] for g in await admin.list_consumer_groups())
        topics = [t for t in await admin.list_topics() if not t.startswith("__")]
    finally:
        await admin.close()
    return {name: await _lag_of(bootstrap, name, topics) for name in names}


async def _lag_of(bootstrap: str, group: str, topics: list[str]) -> int:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer.topics()  # fills the metadata cache
        partitions = [TopicPartition(t, p) for t in topics for p in consumer.partitions_for_topic(t) or ()]
        committed = {tp: await consumer.committed(tp) for tp in partitions}
        live = [tp for tp, offset in committed.items() if offset is not None and offset >= 0]
        ends = await consumer.end_offsets(live) if live else {}
        return sum(max(0, ends[tp] - (committed[tp] or 0)) for tp in live)
    finally:
        await consumer.stop()


class CommittedOffsets:
    """A consumer group's committed offsets summed over topics, polled synchronously (one consumer kept open).

    It is how the bench counts what a Faust worker has processed: the same rule for triage and the
    bare agent, and it needs nothing from the worker but its group id.
    """

    def __init__(self, bootstrap: str, group: str, topics: Iterable[str]) -> None:
        self.loop = asyncio.new_event_loop()

        async def start() -> AIOKafkaConsumer:
            consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
            await consumer.start()
            return consumer

        self.consumer = self.loop.run_until_complete(start())
        self.partitions = [TopicPartition(t, p) for t in topics for p in range(PARTITIONS)]

    def total(self) -> int:
        async def fetch() -> int:
            offsets = [await self.consumer.committed(tp) for tp in self.partitions]
            return sum(o for o in offsets if o is not None and o > 0)

        return self.loop.run_until_complete(fetch())

    def close(self) -> None:
        self.loop.run_until_complete(self.consumer.stop())
        self.loop.close()


@dataclass(frozen=True)
class Placed:
    """A JSON record where the broker put it: partition, offset, and its timestamp (s since the epoch)."""

    partition: int
    offset: int
    t: float
    value: dict[str, Any]


def read_placed(bootstrap: str, topic: str) -> list[Placed]:
    """``read_json`` with each record's partition, offset and timestamp: when and where an escalation landed."""
    out = []
    for record in asyncio.run(read_all(bootstrap, topic)):
        try:
            value = json.loads(record.value)
        except (TypeError, ValueError):
            continue
        if isinstance(value, dict):
            out.append(Placed(record.partition, record.offset, record.timestamp / 1000, value))
    return out


async def leaders(bootstrap: str, topic: str) -> dict[int, int]:
    """Partition -> node id of its leader, as the cluster's metadata says now."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
    await admin.start()
    try:
        [described] = await admin.describe_topics([topic])
        return {int(p["partition"]): int(p["leader"]) for p in described["partitions"]}
    finally:
        await admin.close()


async def group_assignment(bootstrap: str, group: str) -> dict[str, set[tuple[str, int]]]:
    """Member id -> the (topic, partition)s the group's leader assigned it (DescribeGroups, consumer protocol).

    Faust's own assignor ("faust") still encodes the standard consumer assignment, with its extras in
    ``user_data``; so the same decoding serves triage's group and notify's.
    """
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
    await admin.start()
    try:
        responses = await admin.describe_consumer_groups([group])
    finally:
        await admin.close()
    members: dict[str, set[tuple[str, int]]] = {}
    for response in responses:
        for described in response.groups:
            for member in described[5]:
                raw = member[-1]
                assignment = (
                    raw
                    if isinstance(raw, ConsumerProtocolMemberAssignment)
                    else (ConsumerProtocolMemberAssignment.decode(raw) if raw else None)
                )
                parts = assignment.assignment if assignment is not None else []
                members[str(member[0])] = {(topic, p) for topic, ps in parts for p in ps}
    return members


async def controller(bootstrap: str) -> int:
    """The node id the cluster names as its controller (KRaft: a node of the quorum, for the drills' notes)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
    await admin.start()
    try:
        return int((await admin.describe_cluster())["controller_id"])
    finally:
        await admin.close()


async def committed_and_ends(bootstrap: str, group: str, topic: str) -> dict[int, tuple[int | None, int]]:
    """Partition -> (``group``'s committed offset, the end offset) of ``topic``: where a consumer stands."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        ends = await consumer.end_offsets(partitions)
        return {tp.partition: (await consumer.committed(tp), ends[tp]) for tp in partitions}
    finally:
        await consumer.stop()
