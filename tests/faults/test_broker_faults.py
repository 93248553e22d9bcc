"""The broker misbehaves under load: stalled (SIGSTOP … SIGCONT), and killed with its log in S3."""

import signal
import time

import pytest

from bench import stacks
from tests.faults.conftest import StartPipeline
from tests.faults.drill import assert_nothing_lost, run_drill, seconds

pytestmark = pytest.mark.integration


def test_broker_stalled_under_load_loses_nothing(start_pipeline: StartPipeline) -> None:
    stack, record = start_pipeline()
    broker = stack.processes["broker"]

    def stall() -> None:
        broker.signal(signal.SIGSTOP)
        time.sleep(seconds(8, 30))
        broker.signal(signal.SIGCONT)

    assert_nothing_lost(run_drill(stack, record, stall))


def test_broker_killed_and_restarted_with_its_log_in_s3_loses_nothing(start_pipeline: StartPipeline) -> None:
    stack, record = start_pipeline(s3=True)
    assert "--storage-engine" in stack.processes["broker"].argv

    def crash() -> None:
        stacks.restart(stack, "broker", kill=True, down_for=2.0)

    # every record the broker writes is an object PUT to moto's S3 server (Python, on the same 2 cores): triage's
    # changelog, escalations and commits crawl when the machine is busy (seen: 2-3 escalations/s with other
    # tests running beside it), so the catch-up is given longer than on the in-memory broker
    assert_nothing_lost(run_drill(stack, record, crash, rate=15.0, settle_timeout=seconds(60, 180)))
