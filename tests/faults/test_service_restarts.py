"""Waspada's own processes die or restart under load: triage SIGKILLed, notify restarted mid-delivery."""

import pytest

from bench import stacks
from tests.faults.conftest import StartPipeline
from tests.faults.drill import assert_nothing_lost, run_drill

pytestmark = pytest.mark.integration


def test_triage_sigkilled_and_restarted_loses_nothing(start_pipeline: StartPipeline) -> None:
    stack, record = start_pipeline()

    def crash() -> None:
        stacks.restart(stack, "triage", kill=True, down_for=1.0)

    assert_nothing_lost(run_drill(stack, record, crash))


@pytest.mark.xfail(
    strict=True,
    reason="TEMPORARY, notify is being rewritten: on SIGTERM notify logs 'Waiting for application shutdown' and "
    "then keeps consuming and delivering for 10 s (the task.cancel() in the lifespan of services/notify/app.py does "
    "not end the consumer loop of services/notify/consumer.py), until the launcher SIGKILLs it mid-delivery: a "
    "webhook the receiver answered 200 is not in the notification log yet and is sent again after the restart",
)
def test_notify_restarted_mid_delivery_sends_nothing_twice(start_pipeline: StartPipeline) -> None:
    # a slow receiver (20 ms per answer) keeps notify in the middle of a delivery nearly all the time
    stack, record = start_pipeline(receiver_delay_ms=20)

    def restart() -> None:
        stacks.restart(stack, "notify")

    assert_nothing_lost(run_drill(stack, record, restart, rate=10.0))
