"""On Apache Kafka the producers of ingest, triage's outbox and notify are idempotent, as the broker sees it.

An idempotent producer starts with InitProducerId and stamps every batch with the id it got; a plain
one writes producer id -1. The batch headers are read from the node's segment files (tests/kafka_log.py),
so this is the broker's view, not the client's setting. The batches a test writes itself are left out.
"""

import asyncio
from typing import Any

import faust
import pytest
from aiokafka import AIOKafkaProducer

from devstack.demo_tokens import office_token
from devstack.stack import Stack
from schemas.regions import region_table
from schemas.topics import Topics
from services.common.faust_producer import faust_producer
from services.common.kafka import ensure_topics
from tests.kafka_log import Batch, batches
from tests.support import VILLAGE_TOKEN, http, tip, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.broker("kafka")]
CHANGELOG = Topics.VILLAGES_CHANGELOG
WRITERS = {
    Topics.TIPS: "ingest",
    CHANGELOG: "triage (outbox)",
    Topics.ESCALATIONS: "triage (outbox)",
}
"""Who writes each topic. Notify's resolutions (the outcomes topic) go through a producer that is
not idempotent on purpose (services/notify/app.py: it must give a record up when Kafka is away);
the last assertion of the first test holds it to that. Triage's dead letters go through Faust's
own producer, which is idempotent only once triage's app uses ``services.common.faust_producer``
(the last test shows that the class works)."""
TOPIC = "waspada.test.idempotence"


def _village() -> str:
    """A Tirtayasa village no other test reports from (test_lifecycle takes the first one)."""
    return sorted(code for code in region_table().villages if code.startswith("36.04.13.") and code != "36.04.13.2007")[
        1
    ]


def _poison(bootstrap: str, desa: str) -> tuple[int, int]:
    """A record triage cannot parse, so that it dead-letters it; (partition, offset) of our own batch."""

    async def run() -> tuple[int, int]:
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")  # plain: producer id -1
        await producer.start()
        try:
            sent = await producer.send_and_wait(Topics.TIPS, b"{not json", key=desa.encode())
            return sent.partition, sent.offset
        finally:
            await producer.stop()

    return asyncio.run(run())


def test_every_service_producer_writes_idempotent_batches(infra: Stack, pipeline: Stack) -> None:
    assert infra.kafka is not None and infra.kafka_bootstrap
    data_dir = infra.kafka.node(1).data_dir

    def since(topic: str, before: dict[str, set[tuple[int, int]]]) -> list[Batch]:
        return [b for b in batches(data_dir, topic) if (b.partition, b.base_offset) not in before[topic]]

    before = {
        topic: {(b.partition, b.base_offset) for b in batches(data_dir, topic)}
        for topic in (*WRITERS, Topics.DEADLETTER, Topics.OUTCOMES)
    }
    desa, polres = _village(), "polres-serang"
    body = tip(desa, category="suspected_victim", minors_involved=True, destination_country="MY", description="x")
    assert http("POST", pipeline.url("ingest") + "/v1/tips", body, VILLAGE_TOKEN)[0] == 202

    def paged() -> list[dict[str, Any]]:
        _, received = http("GET", pipeline.url("sink") + "/received")
        return [n["payload"] for n in received if n["payload"]["desa_code"] == desa and n["office_id"] == polres]

    page = wait_for(paged, timeout=60, what="the page")[0]
    resolve = f"/v1/escalations/{page['escalation_id']}/resolve"
    assert http("POST", pipeline.url("notify") + resolve, {}, office_token(polres))[0] == 200
    ours = _poison(infra.kafka_bootstrap, desa)
    wait_for(lambda: since(Topics.DEADLETTER, before) and since(Topics.OUTCOMES, before), timeout=30, what="writes")

    found = {topic: [b for b in since(topic, before) if (b.partition, b.base_offset) != ours] for topic in WRITERS}
    assert all(found.values()), {topic: len(b) for topic, b in found.items()}
    plain = {WRITERS[t]: [b for b in found_t if b.producer_id < 0] for t, found_t in found.items()}
    assert not any(plain.values()), f"batches without a producer id: {plain}"
    ids = {topic: {b.producer_id for b in found_t} for topic, found_t in found.items()}
    assert ids[Topics.TIPS].isdisjoint(ids[Topics.ESCALATIONS]), "ingest and triage are separate producers"
    resolutions = since(Topics.OUTCOMES, before)
    assert resolutions and all(b.producer_id == -1 for b in resolutions), resolutions
    # and our own plain producer's batch is the -1 the check above would have caught
    (mine,) = [b for b in batches(data_dir, Topics.TIPS) if (b.partition, b.base_offset) == ours]
    assert mine.producer_id == -1


def test_faust_producer_made_by_the_common_class_writes_idempotent_batches(infra: Stack) -> None:
    assert infra.kafka is not None and infra.kafka_bootstrap
    bootstrap = infra.kafka_bootstrap

    async def run() -> None:
        await ensure_topics(bootstrap, [TOPIC])
        app = faust.App("waspada-test-idempotence", broker=f"kafka://{bootstrap}")
        app.transport.Producer = faust_producer(True)  # type: ignore[misc]
        producer = app.producer
        await producer.start()
        try:
            await producer.send_and_wait(TOPIC, b"k", b"v", partition=0, timestamp=None, headers=None)
        finally:
            await producer.stop()

    asyncio.run(run())
    written = batches(infra.kafka.node(1).data_dir, TOPIC)
    assert written and all(b.producer_id >= 0 and b.producer_epoch >= 0 for b in written), written
