"""The raw figures every other figure is a ratio of: aiokafka to and from the broker, and a bare Faust agent."""

import asyncio
import json
import os
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from bench.kafka_tools import CommittedOffsets
from devstack.processes import Managed, free_port, port_open
from schemas.topics import PARTITIONS, Topics
from services.common.settings import REPO_ROOT

Progress = Callable[[int], None]
BARE_GROUP = "bench-bare-faust"


@dataclass(frozen=True)
class Message:
    topic: str
    key: bytes
    value: bytes


async def produce(bootstrap: str, messages: list[Message], progress: Progress) -> float:
    """Send every message with acks=all, as ingest does, batching freely; events/s until the last ack."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5, max_batch_size=256 * 1024)
    await producer.start()
    try:
        received_at = [("waspada-received-at", datetime.now(UTC).isoformat().encode())]
        start = time.monotonic()
        pending = []
        for i, m in enumerate(messages, 1):
            pending.append(await producer.send(m.topic, m.value, key=m.key, headers=received_at))
            if i % 5000 == 0:
                progress(i)
        await asyncio.gather(*pending)
        elapsed = time.monotonic() - start
        progress(len(messages))
        return len(messages) / elapsed
    finally:
        await producer.stop()


async def consume(bootstrap: str, total: int, progress: Progress, timeout: float = 60.0) -> float:
    """Read ``total`` messages of the input topics from the beginning (no group); events/s."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, max_partition_fetch_bytes=4 << 20
    )
    await consumer.start()
    try:
        partitions = [TopicPartition(t, p) for t in Topics.INPUTS for p in range(PARTITIONS)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        seen, start = 0, time.monotonic()
        while seen < total:
            if time.monotonic() - start > timeout:
                raise TimeoutError(f"raw consume: {seen} of {total} after {timeout:.0f} s")
            batch = await consumer.getmany(timeout_ms=500, max_records=10_000)
            seen += sum(len(records) for records in batch.values())
            progress(seen)
        return seen / (time.monotonic() - start)
    finally:
        await consumer.stop()


def drain_rate(count: Callable[[], int], total: int, progress: Progress, timeout: float = 120.0) -> float:
    """Events/s of a consumer draining ``total`` messages, polled through ``count()``.

    The clock starts at the first poll that sees work done (so start-up and group join are not
    counted) and stops at the first poll that sees ``total``; the same rule for triage and the
    bare agent.
    """
    deadline = time.monotonic() + timeout
    first: tuple[float, int] | None = None
    while time.monotonic() < deadline:
        done, now = count(), time.monotonic()
        progress(done)
        if done and first is None:
            first = (now, done)
        if done >= total and first is not None and now > first[0]:
            return (done - first[1]) / (now - first[0])
        time.sleep(0.05)
    raise TimeoutError(f"drained {count()} of {total} within {timeout:.0f} s")


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


def worker_drain(bootstrap: str, group: str, total: int, progress: Progress) -> float:
    """Events/s of the Faust worker of consumer group ``group`` draining the input topics, by committed offsets.

    Coarse (Faust commits every 2.8 s, so both ends lag by up to that): the fallback when a
    worker has no finer counter to read.
    """
    offsets = CommittedOffsets(bootstrap, group, Topics.INPUTS)
    try:
        return drain_rate(offsets.total, total, progress)
    finally:
        offsets.close()


def bare_faust(
    bootstrap: str, workdir: Path, total: int, progress: Progress, base_env: dict[str, str] | None = None
) -> float:
    """Start the bare agent as a worker subprocess, measure its drain of the input topics, stop it.

    ``base_env``: the stack's service environment, so the agent gets triage's broker settings
    (on Apache Kafka the idempotent producer)."""
    port = free_port()
    env = (base_env or dict(os.environ)) | {
        "WASPADA_KAFKA_BOOTSTRAP": bootstrap,
        "WASPADA_TRIAGE_APP_ID": "bench-bare-faust",
        "WASPADA_TRIAGE_PORT": str(port),
        "WASPADA_TRIAGE_DATA_DIR": str(workdir / "bare-faust-data"),
    }
    argv = [sys.executable, "-m", "services.triage.bare"]
    proc = Managed("bare-faust", argv, env=env, log=workdir / "bare-faust.log", cwd=REPO_ROOT).start()
    url = f"http://127.0.0.1:{port}/count"
    try:
        proc.wait_until(lambda: port_open(port), timeout=60)
        return drain_rate(lambda: int(get_json(url)["count"]), total, progress)
    finally:
        proc.stop()
