"""An escalation notify cannot deliver, published straight onto the escalations topic, never stalls its partition.

Real processes (the embedded broker, Valkey, notify, the recording webhook receiver) and a real
SMTP server: a crafted escalation whose ``desa_name`` holds CRLF (once it made the e-mail builder
raise, the batch failed and was replayed forever, and nothing behind it on that partition was
delivered), then a valid one with the same key, so on the same partition.
"""

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiosmtpd.controller import Controller

from bench import kafka_tools, stacks
from bench.receiver import read_record
from devstack.processes import free_port
from devstack.stack import Stack
from schemas.topics import Topics
from services.notify.adapters.kafka import GROUP
from tests.faults.drill import RETRY_SCHEDULE_S
from tests.faults.test_poison_messages import publish
from tests.notify.conftest import Mailbox, escalation
from tests.support import wait_for

pytestmark = pytest.mark.integration
SERANG = {"polres-serang", "kanim-serang"}


@pytest.fixture
def notify_stack(tmp_path: Path) -> Iterator[tuple[Stack, Path, Mailbox]]:
    """Broker, Valkey, the recording receiver, an SMTP server and notify alone (no ingest, no triage)."""
    mailbox = Mailbox()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    stack = stacks.new_stack(tmp_path)
    stack.extra_env = {
        "WASPADA_SMTP_URL": f"smtp://127.0.0.1:{smtp.port}",
        "WASPADA_RETRY_SCHEDULE_S": RETRY_SCHEDULE_S,
    }
    try:
        stacks.start_infra(stack)
        record = stacks.start_receiver(stack)
        stacks.start_services(stack, ("notify",))
        yield stack, record, mailbox
    finally:
        stack.stop()
        smtp.stop()


def committed(bootstrap: str, partition: int) -> int:
    """The notify group's committed offset on one partition of the escalations topic (-1: none yet)."""

    async def read() -> int:
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=GROUP, enable_auto_commit=False)
        await consumer.start()
        try:
            offset = await consumer.committed(TopicPartition(Topics.ESCALATIONS, partition))
            return -1 if offset is None else offset
        finally:
            await consumer.stop()

    return asyncio.run(read())


def test_crafted_escalation_is_dead_lettered_and_the_next_on_its_partition_delivered(
    notify_stack: tuple[Stack, Path, Mailbox],
) -> None:
    stack, record, mailbox = notify_stack
    bootstrap = stack.kafka_bootstrap or ""
    crafted = escalation(desa_name="Lontar\r\nBcc: semua@contoh.invalid")
    valid = escalation()
    key = valid["desa_code"].encode()
    messages: list[tuple[str, bytes | None, bytes | None]] = [
        (Topics.ESCALATIONS, key, json.dumps(e).encode()) for e in (crafted, valid)
    ]
    (_, partition, crafted_at), (_, same_partition, valid_at) = asyncio.run(publish(bootstrap, messages))
    assert partition == same_partition and valid_at == crafted_at + 1

    def delivered(esc: dict[str, Any]) -> set[str]:
        return {r["office_id"] for r in read_record(record) if r["escalation_id"] == esc["escalation_id"]}

    wait_for(lambda: delivered(valid) == SERANG, timeout=60, what="the valid escalation delivered to both offices")
    dead = wait_for(
        lambda: [
            d
            for d in kafka_tools.read_json(bootstrap, Topics.DEADLETTER)
            if d.get("source", {}).get("offset") == crafted_at and d["source"].get("partition") == partition
        ],
        timeout=30,
        what="the crafted escalation on the dead-letter topic",
    )
    assert [(d["stage"], d["reason"], d["errors"]) for d in dead] == [
        ("notify", "invalid_escalation", [{"loc": "desa_name", "type": "string_pattern_mismatch"}])
    ]
    wait_for(
        lambda: committed(bootstrap, partition) > valid_at,
        timeout=30,
        what="the notify group's committed offset past both records",
    )
    assert delivered(crafted) == set(), "the crafted escalation reached a receiver"
    assert [m for m in mailbox.messages if valid["incident_id"] in str(m["Subject"])], "no e-mail for the valid one"
    assert stack.processes["notify"].alive()
