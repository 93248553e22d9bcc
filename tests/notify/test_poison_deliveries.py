"""A delivery or a record that fails in a way no retry mends is dead-lettered, and the partition moves on.

In process: the consumer's ``handle_batch`` with notify's real Router and Deliverer, a real Valkey,
an HTTP receiver and an SMTP server (aiosmtpd); the dead-letter topic is a list. ``handle_batch``
returning is what lets the consumer commit; raising replays the batch.
"""

import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiokafka import ConsumerRecord
from aiosmtpd.controller import Controller
from prometheus_client import REGISTRY
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from devstack.processes import free_port
from devstack.stack import Stack
from schemas.escalation import Escalation
from schemas.topics import Topics
from services.common.config_files import load_config_or_exit
from services.notify.adapters.valkey import dead_letters as kept_deliveries
from services.notify.adapters.valkey import store
from services.notify.core import payload
from services.notify.core.delivery import webhook_id
from services.notify.core.directory import Directory
from services.notify.flows.consumer import handle_batch
from services.notify.flows.delivery import Deliverer
from services.notify.flows.router import Router
from services.notify.settings import NotifySettings
from tests.factories import escalation
from tests.notify.conftest import Mailbox, Receiver
from tests.support import directory_for_sink

pytestmark = pytest.mark.integration
KANIM_EMAIL = 1
"""Kanim Serang's second channel in the shipped directory: its e-mail."""


@dataclass
class InProcess:
    router: Router
    receiver: Receiver
    mailbox: Mailbox
    redis: Redis
    dead: list[dict[str, Any]] = field(default_factory=list)

    async def deadletter(self, key: bytes, value: bytes) -> None:
        self.dead.append(json.loads(value))


@pytest.fixture(scope="module")
def valkey_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    stack = Stack(workdir=tmp_path_factory.mktemp("valkey"))
    stack.start_valkey()
    assert stack.redis_url
    yield stack.redis_url
    stack.stop()


@pytest.fixture
async def notify(valkey_url: str, tmp_path: Path) -> AsyncIterator[InProcess]:
    receiver, mailbox = Receiver(), Mailbox()
    server = receiver.start()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    settings = NotifySettings(
        directory=directory_for_sink(tmp_path, receiver.url),
        redis_url=valkey_url,
        smtp_url=f"smtp://127.0.0.1:{smtp.port}",
        retry_schedule_s=(0.1, 0.1),
    )
    directory = load_config_or_exit(settings.directory, Directory)
    redis = Redis.from_url(valkey_url)
    client = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5))
    rig = InProcess(None, receiver, mailbox, redis)  # type: ignore[arg-type]
    rig.router = Router(directory, redis, Deliverer(settings, redis, client, rig.deadletter, directory), settings)
    try:
        yield rig
    finally:
        await client.close()
        await redis.aclose()
        smtp.stop()
        server.shutdown()


def record(body: dict[str, Any] | bytes, offset: int) -> ConsumerRecord[bytes, bytes]:
    value = body if isinstance(body, bytes) else json.dumps(body).encode()
    return ConsumerRecord(Topics.ESCALATIONS, 3, offset, 0, 0, b"36.04.13.2007", value, None, 13, len(value), ())


def dead_letters(reason: str) -> float:
    return REGISTRY.get_sample_value("waspada_deadletter_total", {"stage": "notify", "reason": reason}) or 0.0


def mails_about(rig: InProcess, esc: dict[str, Any]) -> int:
    return sum(1 for m in rig.mailbox.messages if esc["incident_id"] in str(m["Subject"]))


async def test_an_email_builder_that_raises_dead_letters_that_delivery_and_the_next_is_delivered(
    notify: InProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    crafted, valid = escalation(), escalation()
    real_email = payload.email

    def email(esc: Escalation, *args: Any, **kwargs: Any) -> Any:
        if esc.escalation_id == crafted["escalation_id"]:
            raise ValueError("Header values may not contain linefeed or carriage return characters")
        return real_email(esc, *args, **kwargs)

    monkeypatch.setattr(payload, "email", email)
    before = dead_letters("delivery_error")
    await handle_batch([record(crafted, 10)], notify.router, notify.deadletter)  # returns: the consumer commits
    await handle_batch([record(valid, 11)], notify.router, notify.deadletter)

    assert [(d["reason"], d["source"]["office_id"], d["source"]["channel"]) for d in notify.dead] == [
        ("delivery_error", "kanim-serang", "email")
    ]
    assert notify.dead[0]["errors"][0]["error"] == "ValueError"
    assert dead_letters("delivery_error") == before + 1
    assert mails_about(notify, valid) == 1 and mails_about(notify, crafted) == 0
    for esc in (crafted, valid):  # the webhooks of both, the crafted one's included
        assert {a["office_id"] for a in notify.receiver.for_escalation(esc["escalation_id"])} == {
            "polres-serang",
            "kanim-serang",
        }
    rows = {d["channel"]: d for d in await store.deliveries(notify.redis, crafted["escalation_id"])}
    assert (rows["email"]["outcome"], rows["email"]["error"]) == ("dead_lettered", "ValueError")
    delivery_id = webhook_id(crafted["escalation_id"], "kanim-serang", 0, KANIM_EMAIL)
    assert rows["email"]["delivery_id"] == delivery_id
    assert await kept_deliveries.kept(notify.redis, delivery_id), "the body a redelivery needs was not kept"


async def test_an_escalation_with_control_characters_is_dead_lettered_before_any_delivery(notify: InProcess) -> None:
    crafted = escalation(desa_name="Lontar\r\nBcc: semua@contoh.invalid")
    valid = escalation()
    await handle_batch([record(crafted, 20), record(valid, 21)], notify.router, notify.deadletter)
    assert [(d["reason"], d["source"]["offset"], d["errors"]) for d in notify.dead] == [
        ("invalid_escalation", 20, [{"loc": "desa_name", "type": "string_pattern_mismatch"}])
    ]
    assert not notify.receiver.for_escalation(crafted["escalation_id"], status=None)
    assert await store.get(notify.redis, crafted["escalation_id"]) is None
    assert len(notify.receiver.for_escalation(valid["escalation_id"])) == 2 and mails_about(notify, valid) == 1


class Failing:
    """A router whose handling of one escalation raises ``error``."""

    def __init__(self, escalation_id: str, error: Exception) -> None:
        self.escalation_id, self.error = escalation_id, error
        self.handled: list[str] = []

    async def handle(self, esc: Escalation) -> None:
        if esc.escalation_id == self.escalation_id:
            raise self.error
        self.handled.append(esc.escalation_id)


async def test_a_record_whose_handling_fails_for_good_is_dead_lettered_and_an_outage_replays() -> None:
    dead: list[dict[str, Any]] = []

    async def deadletter(key: bytes, value: bytes) -> None:
        dead.append(json.loads(value))

    broken, after = escalation(), escalation()
    router = Failing(broken["escalation_id"], KeyError("office"))
    await handle_batch([record(broken, 30), record(after, 31)], router, deadletter)  # type: ignore[arg-type]
    assert router.handled == [after["escalation_id"]]
    assert [(d["reason"], d["source"]["offset"], d["errors"][0]["error"]) for d in dead] == [
        ("processing_error", 30, "KeyError")
    ]

    dead.clear()
    router = Failing(broken["escalation_id"], RedisConnectionError("valkey away"))
    with pytest.raises(RedisConnectionError):  # the batch is replayed, nothing is committed past
        await handle_batch([record(broken, 30), record(after, 31)], router, deadletter)  # type: ignore[arg-type]
    assert dead == []
