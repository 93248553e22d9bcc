"""The Apache Kafka of the test bed itself: fetched once, three nodes that survive a kill -9, a log that persists."""

import asyncio
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from devstack.kafka import fetch
from devstack.kafka.cluster import KafkaCluster
from services.common.kafka import ensure_topics, make_producer
from tests.support import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.broker("kafka")]  # its own clusters: the marker only counts
TOPIC = "waspada.test.kafka"


async def _produce(bootstrap: str, values: list[bytes]) -> None:
    """One record per value, each acknowledged by every in-sync replica (acks=all, idempotent)."""
    producer = make_producer(bootstrap, idempotent=True)
    await producer.start()
    try:
        for i, value in enumerate(values):
            await (await producer.send(TOPIC, value, partition=i % 4))
    finally:
        await producer.stop()


async def _read(bootstrap: str) -> list[bytes]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(TOPIC, p) for p in range(4)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        values: list[bytes] = []
        while [tp for tp, end in ends.items() if await consumer.position(tp) < end]:
            batch = await consumer.getmany(timeout_ms=500)
            values.extend(r.value for rs in batch.values() for r in rs)
        return sorted(values)
    finally:
        await consumer.stop()


async def _describe(bootstrap: str) -> list[dict[str, Any]]:
    """The topic's partitions as one node sees them; none when that node is the one just killed."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=3000)
    try:
        await admin.start()
        (topic,) = await admin.describe_topics([TOPIC])
        return sorted(topic["partitions"], key=lambda p: p["partition"])
    except KafkaError:
        return []
    finally:
        await admin.close()


def _partitions(bootstrap: str) -> list[dict[str, Any]]:
    """The topic's four partitions, once the node asked has them in its metadata (it lags the controller)."""

    def described() -> list[dict[str, Any]] | None:
        found = asyncio.run(_describe(bootstrap))
        return found if len(found) == 4 else None

    return wait_for(described, timeout=30, what=f"{TOPIC} in the metadata")


async def _min_insync(bootstrap: str) -> str:
    from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        (answer,) = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, TOPIC)])
        (resource,) = answer.resources
        return next(str(entry[1]) for entry in resource[4] if entry[0] == "min.insync.replicas")
    finally:
        await admin.close()


@pytest.mark.broker("kafka3")
def test_three_nodes_take_writes_through_a_kill_of_a_leader_and_take_it_back(tmp_path: Path) -> None:
    cluster = KafkaCluster(tmp_path, 3).start()
    try:
        bootstrap = cluster.bootstrap
        asyncio.run(ensure_topics(bootstrap, [TOPIC], replication=cluster.replication))
        partitions = _partitions(bootstrap)
        assert [sorted(p["replicas"]) for p in partitions] == [[1, 2, 3]] * 4
        assert asyncio.run(_min_insync(bootstrap)) == "2"
        asyncio.run(_produce(bootstrap, [b"before-%d" % i for i in range(8)]))

        victim = partitions[0]["leader"]
        cluster.kill(victim)  # kill -9
        wait_for(
            lambda: all(p["leader"] not in (victim, -1) for p in _partitions(bootstrap)),
            timeout=30,
            what=f"the partitions of node {victim} led elsewhere (it is fenced after 6 s without a heartbeat)",
        )
        asyncio.run(_produce(bootstrap, [b"while-down-%d" % i for i in range(8)]))  # 2 of 3 in sync: enough

        cluster.restart(victim)  # same id, ports and log dir
        wait_for(
            lambda: all(len(p["isr"]) == 3 for p in _partitions(bootstrap)),
            timeout=60,
            what=f"node {victim} back in every partition's ISR",
        )
        expected = sorted([b"before-%d" % i for i in range(8)] + [b"while-down-%d" % i for i in range(8)])
        assert asyncio.run(_read(bootstrap)) == expected
    finally:
        cluster.stop()


def test_one_node_keeps_its_records_and_its_storage_across_a_restart(tmp_path: Path) -> None:
    # what `make run BROKER=kafka` does with .run/kafka: formatted once, never again
    first = KafkaCluster(tmp_path, 1).start()
    meta = (first.node(1).data_dir / "meta.properties").read_text()
    try:
        asyncio.run(ensure_topics(first.bootstrap, [TOPIC]))
        asyncio.run(_produce(first.bootstrap, [b"kept"]))
    finally:
        first.stop()
    # stopped by SIGTERM (the JVM's exit status after its shutdown hook), not by the SIGKILL that follows a hang
    assert (first.node(1).data_dir / ".kafka_cleanshutdown").is_file(), "the broker did not shut down cleanly"

    again = KafkaCluster(tmp_path, 1).start()  # new ports, same log dir
    try:
        assert (again.node(1).data_dir / "meta.properties").read_text() == meta
        assert asyncio.run(_read(again.bootstrap)) == [b"kept"]
    finally:
        again.stop()


def test_an_unreachable_maven_central_is_one_clear_line(tmp_path: Path) -> None:
    settings = tmp_path / "settings.xml"
    mirror = "<mirror><id>nowhere</id><mirrorOf>*</mirrorOf><url>http://127.0.0.1:9/maven2</url></mirror>"
    settings.write_text(f"<settings><mirrors>{mirror}</mirrors></settings>")
    with pytest.raises(fetch.KafkaUnavailable) as raised:
        fetch.fetch(tmp_path / "libs", ["-s", str(settings), f"-Dmaven.repo.local={tmp_path / 'repo'}"])
    message = str(raised.value)
    assert "\n" not in message and "Maven Central" in message and "not reachable" in message
    assert not (tmp_path / "libs").exists(), "a failed fetch left a directory that looks like a cache"


def test_missing_java_and_maven_without_root_is_one_line_naming_the_packages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda tool: None)
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(fetch.KafkaUnavailable) as raised:
        fetch.require_tools(maven=True)
    assert str(raised.value) == (
        "Apache Kafka needs the Debian packages: default-jre-headless maven "
        "(apt-get install default-jre-headless maven)"
    )
