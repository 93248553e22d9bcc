"""Poison published straight onto the input topics is dead-lettered, and the stream keeps flowing.

Upstream systems may publish onto the input topics with the project's publisher client
(CONTRACT §4): triage must validate exactly as ingest does, send what fails to the dead-letter
topic, and keep going. A valid event published after the poison must still escalate and notify.
"""

import asyncio
import json
import time
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from bench import events, kafka_tools
from bench.receiver import read_record
from schemas.topics import Topics
from tests.faults.conftest import StartPipeline
from tests.support import wait_for

pytestmark = pytest.mark.integration

VILLAGE = "36.04.13.2007"


def poison() -> list[tuple[str, bytes | None, bytes | None]]:
    """(topic, key, value) of every kind of bad message we know of."""
    tip = events.escalating_tip(VILLAGE)
    anomaly = events.departure_anomaly(VILLAGE)
    return [
        (Topics.TIPS, b"k", b"not json at all"),
        (Topics.TIPS, b"k", b""),
        (Topics.TIPS, b"k", b"\xff\xfe\x00 not utf-8"),
        (Topics.TIPS, b"k", b"[1, 2, 3]"),
        (Topics.TIPS, b"k", b"null"),
        (Topics.TIPS, b"k", None),  # a tombstone
        (Topics.TIPS, b"k", b'{"type": "tip"}'),
        (Topics.TIPS, b"k", json.dumps({**tip, "persons_involved": "two"}).encode()),
        (Topics.TIPS, b"k", json.dumps({**tip, "desa_code": "99.99.99.9999"}).encode()),
        (Topics.TIPS, b"k", json.dumps({**tip, "description": "x" * 900_000}).encode()),  # oversized
        (Topics.TIPS, b"k", json.dumps(anomaly).encode()),  # valid, but on the wrong topic
        (Topics.DEPARTURE_ANOMALIES, b"k", json.dumps({**anomaly, "age": -3}).encode()),
        (Topics.DEPARTURE_ANOMALIES, b"k", b"{" * 10_000),  # deeply unbalanced
        (Topics.RECRUITER_SIGHTINGS, b"k", json.dumps({"type": "recruiter_sighting", "activity": "all"}).encode()),
        (Topics.RECRUITER_SIGHTINGS, b"k", json.dumps(tip).encode()),
    ]


async def publish(bootstrap: str, messages: list[tuple[str, bytes | None, bytes | None]]) -> list[tuple[str, int, int]]:
    """Publish and return (topic, partition, offset) of each message."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", max_request_size=2 * 1024 * 1024)
    await producer.start()
    try:
        where = []
        for topic, key, value in messages:
            meta = await producer.send_and_wait(topic, value, key=key)
            where.append((topic, meta.partition, meta.offset))
        return where
    finally:
        await producer.stop()


def sources(records: list[dict[str, Any]]) -> set[tuple[str, int, int]]:
    out = set()
    for r in records:
        src = r.get("source") or {}
        if {"topic", "partition", "offset"} <= set(src):
            out.add((src["topic"], int(src["partition"]), int(src["offset"])))
    return out


def test_poison_is_dead_lettered_and_a_valid_event_after_it_still_escalates(start_pipeline: StartPipeline) -> None:
    stack, record = start_pipeline()
    assert stack.kafka_bootstrap is not None
    bad = poison()
    where = asyncio.run(publish(stack.kafka_bootstrap, bad))
    fresh = events.covered_villages()[0]
    valid = events.escalating_tip(fresh)
    asyncio.run(publish(stack.kafka_bootstrap, [(Topics.TIPS, fresh.encode(), events.as_published(valid))]))

    wait_for(
        lambda: any(r["desa_code"] == fresh and r["status"] == 200 for r in read_record(record)),
        timeout=60,
        what="the valid tip published after the poison to be notified",
    )
    bootstrap = stack.kafka_bootstrap

    def dead_letters() -> list[dict[str, Any]]:
        records = kafka_tools.read_json(bootstrap, Topics.DEADLETTER)
        return records if len(records) >= len(bad) else []

    dead = wait_for(dead_letters, timeout=30, what=f"{len(bad)} dead-letter records")
    time.sleep(0.5)
    assert stack.processes["triage"].alive(), "triage died on the poison"
    print(f"published {len(bad)} poison messages; {len(dead)} dead-letter records; the valid tip after them notified")
    missing = set(where) - sources(dead) if sources(dead) else set()
    assert not missing, f"not dead-lettered: {sorted(missing)}"
    escalated = {e["desa_code"] for e in kafka_tools.read_json(stack.kafka_bootstrap, Topics.ESCALATIONS)}
    assert fresh in escalated
