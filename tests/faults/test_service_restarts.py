"""Waspada's own processes die or restart under load: triage SIGKILLed, notify restarted mid-delivery."""

import signal

import pytest

from bench import stacks
from tests.faults.conftest import StartPipeline
from tests.faults.drill import assert_nothing_lost, run_drill

pytestmark = pytest.mark.integration


@pytest.mark.broker("kafka3")
def test_triage_sigkilled_and_restarted_loses_nothing(start_pipeline: StartPipeline) -> None:
    stack, record = start_pipeline()

    def crash() -> None:
        stacks.restart(stack, "triage", kill=True, down_for=1.0)

    assert_nothing_lost(run_drill(stack, record, crash))


@pytest.mark.broker("kafka")  # a fault of notify alone: one Apache Kafka node
def test_notify_restarted_mid_delivery_sends_nothing_twice(start_pipeline: StartPipeline) -> None:
    # a slow receiver (20 ms per answer) keeps notify in the middle of a delivery nearly all the time
    stack, record = start_pipeline(receiver_delay_ms=20)

    exit_codes: list[int | None] = []

    def restart() -> None:
        notify = stack.processes["notify"]
        notify.stop(timeout=10)  # SIGTERM, SIGKILL after 10 s as an orchestrator's grace period would
        exit_codes.append(notify.proc.returncode if notify.proc else None)
        stacks.restart(stack, "notify")

    books = run_drill(stack, record, restart, rate=10.0)
    assert exit_codes and exit_codes[0] != -signal.SIGKILL, "notify ignored SIGTERM for 10 s and was SIGKILLed"
    assert_nothing_lost(books)
