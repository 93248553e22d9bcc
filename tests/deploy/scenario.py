"""The scenario the observability tests look at, and what it must leave in the metrics.

Two tips from two villages of Kab. Serang (each opens an incident and escalates to Polres Serang
and Kantor Imigrasi Serang), the first tip again (a duplicate at ingest), and one poison message
published straight onto the tips topic (a dead letter at triage).
"""

from dataclasses import dataclass
from typing import Any

from kafka import KafkaProducer

from devstack.stack import Stack
from schemas.topics import Topics
from tests.support import VILLAGE_TOKEN, http, tip, wait_for

VILLAGES = ("36.04.13.2001", "36.04.13.2002")
OFFICES = {"polres-serang", "kanim-serang"}


@dataclass(frozen=True)
class Scenario:
    """What was sent, and the notifications the sink had when every village was served."""

    tips: int
    duplicates: int
    poison: int
    received: list[dict[str, Any]]


def _served(stack: Stack) -> list[dict[str, Any]]:
    _, received = http("GET", stack.url("sink") + "/received")
    mine = [n for n in received if n["payload"]["desa_code"] in VILLAGES]
    served = {(n["payload"]["desa_code"], n["office_id"]) for n in mine}
    return mine if all((v, o) in served for v in VILLAGES for o in OFFICES) else []


def _publish_poison(bootstrap: str) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    try:
        producer.send(Topics.TIPS, key=VILLAGES[0].encode(), value=b'{"type": "tip", "event_id": "not-a-uuid"}')
        producer.flush(timeout=30)
    finally:
        producer.close(timeout=5)


def run_scenario(stack: Stack) -> Scenario:
    bodies = [tip(village) for village in VILLAGES]
    for body in bodies:
        assert http("POST", stack.url("ingest") + "/v1/tips", body, VILLAGE_TOKEN)[0] == 202
    status, answer = http("POST", stack.url("ingest") + "/v1/tips", bodies[0], VILLAGE_TOKEN)
    assert (status, answer["status"]) == (202, "duplicate")
    assert stack.kafka_bootstrap is not None
    _publish_poison(stack.kafka_bootstrap)
    received = wait_for(lambda: _served(stack), timeout=60, what="webhooks for both villages to both offices")
    return Scenario(tips=len(bodies), duplicates=1, poison=1, received=received)
