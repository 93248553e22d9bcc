"""What Waspada depends on goes away for a while: Valkey restarted, an office's webhook receiver down.

On one Apache Kafka node: the faults are not the broker's, and the broker is the one production runs.
"""

import pytest

from bench import stacks
from tests.faults.conftest import StartPipeline
from tests.faults.drill import assert_nothing_lost, run_drill, seconds

pytestmark = [pytest.mark.integration, pytest.mark.broker("kafka")]


def test_valkey_restarted_under_load_loses_nothing(start_pipeline: StartPipeline) -> None:
    stack, record = start_pipeline()

    def restart() -> None:
        stacks.restart(stack, "valkey", down_for=3.0)

    assert_nothing_lost(run_drill(stack, record, restart))


def test_webhook_receiver_down_for_a_while_is_caught_up(start_pipeline: StartPipeline) -> None:
    stack, record = start_pipeline()

    def outage() -> None:
        stacks.restart(stack, "receiver", down_for=seconds(10, 60))

    # retries with backoff may wait long after the receiver is back: allow for the whole schedule's start
    assert_nothing_lost(run_drill(stack, record, outage, rate=15.0, settle_timeout=seconds(45, 180)))
