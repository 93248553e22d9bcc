"""Many requests in flight at once: never a 500. Redis errors of any kind (refused connection,
no free connection in the pool) answer 503 with Retry-After; a working Redis takes them all."""

import asyncio
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import orjson
import pytest

from bench.ingest_load import run_load, tip_body
from devstack.processes import free_port
from devstack.stack import Stack
from tests.ingest.client import post
from tests.ingest.conftest import TOKENS, write_channels

pytestmark = [pytest.mark.integration, pytest.mark.broker("kafka")]

IN_FLIGHT = 256


@pytest.fixture(scope="module")
def no_redis(infra: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """An ingest whose Redis URL points at a port where nothing listens."""
    workdir = tmp_path_factory.mktemp("ingest-no-redis")
    stack = Stack(
        workdir=workdir, kafka_bootstrap=infra.kafka_bootstrap, redis_url=f"redis://127.0.0.1:{free_port()}/0"
    )
    stack.channels = write_channels(workdir / "channels.yaml")
    stack.start_service("ingest")
    yield stack
    stack.stop()


def test_256_requests_in_flight_are_all_accepted(ingest: Stack) -> None:
    bodies = [orjson.dumps(tip_body(i)) for i in range(IN_FLIGHT)]
    _, statuses = asyncio.run(run_load(ingest.url("ingest"), "/v1/tips", TOKENS["open"], bodies, IN_FLIGHT))
    assert statuses == {"accepted": IN_FLIGHT}


def test_redis_unreachable_answers_503_with_retry_after_never_500(no_redis: Stack) -> None:
    url = no_redis.url("ingest") + "/v1/tips"

    def one(_: int) -> tuple[int, dict[str, str]]:
        status, _, headers = post(url, {**tip_body(0), "event_id": str(uuid.uuid4())}, TOKENS["open"])
        return status, {k.lower(): v for k, v in headers.items()}

    with ThreadPoolExecutor(max_workers=64) as pool:
        answers = list(pool.map(one, range(IN_FLIGHT)))
    assert {status for status, _ in answers} == {503}
    assert all(headers.get("retry-after", "").isdigit() for _, headers in answers)
