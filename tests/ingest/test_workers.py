"""Several worker processes (``WASPADA_INGEST_WORKERS``): one /metrics for all, a dead worker replaced."""

import os
import re
import signal
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from devstack.stack import Stack
from tests.factories import tip
from tests.ingest.client import post
from tests.ingest.conftest import TOKENS, ingest_on
from tests.support import http, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.broker("kafka")]
ACCEPTED = re.compile(r'^waspada_ingest_events_total\{channel="open",status="accepted",type="tip"\} ([0-9.]+)$', re.M)


@pytest.fixture(scope="module")
def two_workers(infra: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    stack = ingest_on(infra, tmp_path_factory.mktemp("workers"), WASPADA_INGEST_WORKERS="2")
    yield stack
    stack.stop()


def _workers(stack: Stack) -> dict[int, str]:
    """pid → metrics directory of each worker process (the children that serve, not the resource tracker)."""
    parent = stack.processes["ingest"].pid
    out = {}
    for child in Path(f"/proc/{parent}/task/{parent}/children").read_text().split():
        try:
            environ = Path(f"/proc/{child}/environ").read_text().split("\0")
            cmdline = Path(f"/proc/{child}/cmdline").read_text()
        except OSError:  # a child that just exited
            continue
        if "resource_tracker" not in cmdline:
            out[int(child)] = dict(e.split("=", 1) for e in environ if "=" in e)["PROMETHEUS_MULTIPROC_DIR"]
    return out


def _accepted(stack: Stack) -> float:
    status, text = http("GET", stack.url("ingest") + "/metrics")
    assert status == 200
    found = ACCEPTED.search(text)
    return float(found.group(1)) if found else 0.0


def _post_many(stack: Stack, n: int) -> None:
    with ThreadPoolExecutor(16) as pool:  # concurrent connections: both workers take some
        statuses = list(pool.map(lambda _: post(stack.url("ingest") + "/v1/tips", tip(), TOKENS["open"])[0], range(n)))
    assert statuses == [202] * n


def test_metrics_add_up_over_workers_and_outlive_a_killed_one(two_workers: Stack) -> None:
    workers = _workers(two_workers)
    assert len(workers) == 2
    directory = next(iter(workers.values()))
    before = _accepted(two_workers)
    _post_many(two_workers, 40)
    assert _accepted(two_workers) == before + 40
    wait_for(lambda: http("GET", two_workers.url("ingest") + "/readyz")[0] == 200, what="ready")

    victim = max(workers)
    # a worker's readiness gauge (its file) appears with its first Kafka/Redis probe, which may still run
    wait_for(lambda: (Path(directory) / f"gauge_livemin_{victim}.db").exists(), what="the victim's readiness gauge")
    os.kill(victim, signal.SIGKILL)
    wait_for(lambda: len(w := _workers(two_workers)) == 2 and victim not in w, what="a replacement worker")
    wait_for(lambda: http("GET", two_workers.url("ingest") + "/healthz")[0] == 200, what="healthz")
    _post_many(two_workers, 10)
    assert _accepted(two_workers) == before + 50  # the dead worker's counts still count
    assert not (Path(directory) / f"gauge_livemin_{victim}.db").exists()  # its readiness no longer does
    wait_for(
        lambda: "waspada_ingest_kafka_ready 1.0" in http("GET", two_workers.url("ingest") + "/metrics")[1], what="ready"
    )
