"""Notify under test: its own broker and Valkey, real HTTP receivers, a real SMTP server (aiosmtpd).

One stack per module (a notify start costs ~2 s); each test publishes escalations with ids of
its own and reads back only what concerns them.
"""

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiosmtpd.controller import Controller

from devstack import infra
from devstack.processes import free_port
from devstack.stack import Broker, Stack
from schemas.topics import Topics
from services.common.kafka import make_producer
from tests.brokers import broker_of
from tests.factories import escalation as escalation  # re-exported: tests/faults and tests/schemas import it here
from tests.support import directory_for_sink, http, wait_for


@dataclass
class Rule:
    """How the receiver answers one (escalation, office): ``fail`` times ``status``, then 200."""

    fail: int = 0
    status: int = 503
    retry_after: str | None = None


@dataclass
class Receiver:
    """A real HTTP server standing in for every office's webhook endpoint."""

    port: int = field(default_factory=free_port)
    rules: dict[tuple[str, str], Rule] = field(default_factory=dict)
    attempts: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def answer(self, office_id: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str]]:
        payload = json.loads(body)
        with self.lock:
            key = (payload["escalation_id"], office_id)
            rule = self.rules.get(key, Rule())
            earlier = sum(1 for a in self.attempts if (a["escalation_id"], a["office_id"]) == key)
            status = rule.status if earlier < rule.fail else 200
            self.attempts.append(
                {
                    "office_id": office_id,
                    "escalation_id": payload["escalation_id"],
                    "webhook_id": headers.get("webhook-id"),
                    "headers": headers,
                    "body": body.decode(),
                    "payload": payload,
                    "status": status,
                    "t": time.time(),
                }
            )
        extra = {"Retry-After": rule.retry_after} if status != 200 and rule.retry_after else {}
        return status, extra

    def for_escalation(self, escalation_id: str, status: int | None = 200) -> list[dict[str, Any]]:
        with self.lock:
            return [
                a
                for a in self.attempts
                if a["escalation_id"] == escalation_id and (status is None or a["status"] == status)
            ]

    def start(self) -> ThreadingHTTPServer:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                office_id = self.path.rsplit("/", 1)[-1]
                status, extra = receiver.answer(office_id, {k.lower(): v for k, v in self.headers.items()}, body)
                self.send_response(status)
                for name, value in extra.items():
                    self.send_header(name, value)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server


class Mailbox:
    """aiosmtpd handler: keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@dataclass
class NotifyRig:
    stack: Stack
    receiver: Receiver
    mailbox: Mailbox

    @property
    def api(self) -> str:
        return self.stack.url("notify")

    def secret(self, office_id: str) -> str:
        offices = yaml.safe_load(self.stack.directory.read_text())["offices"]
        office = next(o for o in offices if o["id"] == office_id)
        return str(next(c["secret"] for c in office["channels"] if c["type"] == "webhook"))

    def publish(self, *escalations: dict[str, Any]) -> None:
        async def send() -> None:
            assert self.stack.kafka_bootstrap
            producer = make_producer(self.stack.kafka_bootstrap, idempotent=self.stack.broker != "embedded")
            await producer.start()
            try:
                for esc in escalations:
                    await producer.send_and_wait(
                        Topics.ESCALATIONS, key=esc["desa_code"].encode(), value=json.dumps(esc).encode()
                    )
            finally:
                await producer.stop()

        asyncio.run(send())

    def metric(self, name: str, **labels: str) -> float:
        _, text = http("GET", self.api + "/metrics")
        wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
        for line in str(text).splitlines():
            if line.startswith(f"{name}{{") or line.startswith(f"{name} "):
                got = line[len(name) :].split(" ")[0].strip("{}")
                if ",".join(sorted(got.split(","))) == wanted or (not labels and not got):
                    return float(line.rsplit(" ", 1)[1])
        return 0.0

    def restart(self, kill: bool = True) -> None:
        if kill:
            self.stack.processes["notify"].kill()
            self.stack.processes.pop("notify")
        else:
            self.stack.stop("notify")
        self.stack.start_service("notify", self.stack.ports["notify"])


NOTIFY_ENV = {
    "WASPADA_DEFAULT_ACK_WITHIN_S": "3",
    "WASPADA_ESCALATION_REPEATS": "2",
    "WASPADA_RETRY_SCHEDULE_S": "0.2,0.4,0.8,1.5",  # five attempts over about three seconds
    "WASPADA_TIMER_POLL_S": "0.2",
    "WASPADA_WEBHOOK_TIMEOUT_S": "5",
    "WASPADA_LOG_JSON": "true",
}


@dataclass
class OutageRig(NotifyRig):
    server: ThreadingHTTPServer | None = None

    def receiver_down(self) -> None:
        assert self.server is not None
        self.server.shutdown()
        self.server.server_close()
        self.server = None

    def receiver_up(self) -> None:
        self.server = self.receiver.start()

    def valkey_down(self) -> None:
        self.stack.processes["valkey"].stop()

    def valkey_up(self) -> None:
        proc = self.stack.processes["valkey"].start()
        proc.wait_until(lambda: infra.valkey_ready(self.stack.ports["valkey"]))


@contextlib.contextmanager
def outage_rig(workdir: Path, env: dict[str, str], broker: Broker) -> Iterator[OutageRig]:
    """Broker, Valkey, a receiver and one notify with ``env``: a stack of its own, whose parts a test may stop."""
    receiver = Receiver()
    stack = Stack(workdir=workdir, broker=broker)
    stack.directory = directory_for_sink(workdir, receiver.url)
    stack.extra_env = env
    rig = OutageRig(stack, receiver, mailbox=None, server=receiver.start())  # type: ignore[arg-type]
    try:
        stack.start_broker()
        stack.start_valkey()
        stack.start_service("notify")
        yield rig
    finally:
        stack.stop()
        if rig.server is not None:
            rig.server.shutdown()


@pytest.fixture(scope="module")
def rig(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[NotifyRig]:
    """Broker, Valkey, receiver, SMTP server and one notify process, for one test module."""
    workdir: Path = tmp_path_factory.mktemp("notify")
    receiver = Receiver()
    server = receiver.start()
    mailbox = Mailbox()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    stack = Stack(workdir=workdir, broker=broker_of(request))
    stack.directory = directory_for_sink(workdir, receiver.url)
    stack.extra_env = {**NOTIFY_ENV, "WASPADA_SMTP_URL": f"smtp://127.0.0.1:{smtp.port}"}
    try:
        stack.start_broker()
        stack.start_valkey()
        stack.start_service("notify")
        yield NotifyRig(stack, receiver, mailbox)
    finally:
        stack.stop()
        smtp.stop()
        server.shutdown()


__all__ = ["NotifyRig", "OutageRig", "Rule", "escalation", "outage_rig", "wait_for"]
