"""The broker stalls under load (SIGSTOP, then SIGCONT): 503s meanwhile, nothing answered 202 is lost.

The embedded broker keeps its log in memory, so it is stalled rather than killed (a kill would
lose the log itself). The stall (4 s) is shorter than the producer's request timeout (10 s): the
records in flight are written late, ingest notices (their claims become published records) and
the client's retries of those 503s answer ``duplicate``: every id is on the topic exactly once.
"""

import json
import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pytest

from devstack.stack import Stack
from schemas.topics import Topics
from tests.factories import tip
from tests.ingest.client import post
from tests.ingest.conftest import TOKENS, write_channels
from tests.ingest.topics import read_topics
from tests.support import http, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.broker("kafka")]
STALL_S = 4.0


@dataclass
class Load:
    """Every answer the load saw, with when it came."""

    answers: list[tuple[float, dict[str, Any], int, dict[str, str]]] = field(default_factory=list)
    health: list[tuple[float, int, int]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


@pytest.fixture
def stalling(new_stack: Stack) -> Iterator[Stack]:
    new_stack.channels = write_channels(new_stack.workdir / "channels.yaml")
    new_stack.extra_env = {
        "WASPADA_PUBLISH_TIMEOUT_S": "1.5",
        "WASPADA_READY_PROBE_INTERVAL_S": "0.5",
        "WASPADA_RETRY_AFTER_S": "1",
        "WASPADA_LOG_LEVEL": "DEBUG",
    }
    new_stack.start_broker()
    new_stack.start_valkey()
    new_stack.start_service("ingest")
    yield new_stack


def _post_until(url: str, stop: float, load: Load) -> None:
    while time.monotonic() < stop:
        body = tip()
        status, _, headers = post(url, body, TOKENS["open"])
        lowered = {k.lower(): v for k, v in headers.items()}
        with load.lock:
            load.answers.append((time.monotonic(), body, status, lowered))
        if status == 503:  # as a well-behaved client does
            time.sleep(min(1.0, float(lowered.get("retry-after", "1"))))


def _watch_health(base: str, stop: float, load: Load) -> None:
    while time.monotonic() < stop:
        load.health.append((time.monotonic(), http("GET", base + "/healthz")[0], http("GET", base + "/readyz")[0]))
        time.sleep(0.2)


def _retry(url: str, body: dict[str, Any]) -> str:
    """Retry a 503'd event as a client would; its final status."""
    for _ in range(30):
        status, answer, _ = post(url, body, TOKENS["open"])
        if status == 202:
            return str(answer["status"])
        time.sleep(0.5)
    raise AssertionError(f"event {body['event_id']} never taken after the broker came back")


def test_stalled_broker_loses_nothing_answered_202_and_ingest_recovers(stalling: Stack) -> None:
    base, load = stalling.url("ingest"), Load()
    url, start = base + "/v1/tips", time.monotonic()
    stop = start + 1.5 + STALL_S + 3.0
    with ThreadPoolExecutor(max_workers=13) as pool:
        workers = [pool.submit(_post_until, url, stop, load) for _ in range(12)]
        pool.submit(_watch_health, base, stop, load)
        time.sleep(1.5)
        stalling.processes["broker"].signal(signal.SIGSTOP)
        stalled_at = time.monotonic()
        time.sleep(STALL_S)
        stalling.processes["broker"].signal(signal.SIGCONT)
        resumed_at = time.monotonic()
        for worker in workers:
            worker.result()

    statuses = [a[2] for a in load.answers]
    assert set(statuses) <= {202, 503}, set(statuses)
    assert statuses.count(503) > 0 and statuses.count(202) > 0
    assert all("retry-after" in a[3] for a in load.answers if a[2] == 503)
    during = [(h, r) for t, h, r in load.health if stalled_at + 2 < t < resumed_at]
    assert during and all(h == 200 for h, _ in during) and any(r == 503 for _, r in during)
    wait_for(lambda: http("GET", base + "/readyz")[0] == 200, timeout=20, what="/readyz to pass again by itself")
    assert any(a[2] == 202 and a[0] > resumed_at for a in load.answers) or post(url, tip(), TOKENS["open"])[0] == 202

    refused = [a[1] for a in load.answers if a[2] == 503]
    with ThreadPoolExecutor(max_workers=8) as pool:
        retried = dict(zip([b["event_id"] for b in refused], pool.map(lambda b: _retry(url, b), refused), strict=True))
    assert set(retried.values()) <= {"accepted", "duplicate"}

    assert stalling.kafka_bootstrap
    on_topic = [json.loads(v)["event_id"] for _, v, _ in read_topics(stalling.kafka_bootstrap, [Topics.TIPS])]
    answered_202 = {a[1]["event_id"] for a in load.answers if a[2] == 202}
    assert answered_202 <= set(on_topic), f"{len(answered_202 - set(on_topic))} events answered 202 are missing"
    assert set(retried) <= set(on_topic)
    assert len(on_topic) == len(set(on_topic)), "an event was published twice"
