"""Idempotency and rate limits hold across concurrent requests and across two ingest replicas."""

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from devstack.stack import Stack
from schemas.topics import Topics
from tests.factories import tip
from tests.ingest.client import post
from tests.ingest.conftest import RATE_LIMIT, TOKENS, ingest_on
from tests.ingest.topics import read_topics

pytestmark = [pytest.mark.integration, pytest.mark.broker("kafka")]


@pytest.fixture(scope="module")
def replicas(infra: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, Stack]]:
    a = ingest_on(infra, tmp_path_factory.mktemp("replica-a"))
    b = ingest_on(infra, tmp_path_factory.mktemp("replica-b"))
    yield a, b
    a.stop()
    b.stop()


def test_one_event_id_sent_concurrently_to_two_replicas_is_published_once(replicas: tuple[Stack, Stack]) -> None:
    bodies = [tip() for _ in range(10)]
    urls = [r.url("ingest") + "/v1/tips" for r in replicas]
    calls = [(urls[i % 2], body) for body in bodies for i in range(6)]  # each id 6 times, 3 per replica
    with ThreadPoolExecutor(max_workers=24) as pool:
        answers = list(pool.map(lambda call: post(call[0], call[1], TOKENS["open"]), calls))
    for body in bodies:
        statuses = sorted(a[1]["status"] for a, c in zip(answers, calls, strict=True) if c[1] is body and a[0] == 202)
        assert statuses == ["accepted"] + ["duplicate"] * 5, statuses
    assert replicas[0].kafka_bootstrap
    on_topic = [json.loads(v)["event_id"] for _, v, _ in read_topics(replicas[0].kafka_bootstrap, [Topics.TIPS])]
    assert all(on_topic.count(b["event_id"]) == 1 for b in bodies)


@pytest.mark.usefixtures("fresh_rate")
def test_rate_limit_is_shared_by_the_replicas(replicas: tuple[Stack, Stack]) -> None:
    codes = [
        post(replicas[i % 2].url("ingest") + "/v1/tips", tip(), TOKENS["limited"])[0] for i in range(RATE_LIMIT + 3)
    ]
    assert codes == [202] * RATE_LIMIT + [429] * 3
