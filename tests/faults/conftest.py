"""Fixtures of the fault drills: a whole pipeline of its own per drill, stopped however the drill ends."""

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bench import stacks
from devstack.stack import Stack
from tests.brokers import broker_of
from tests.faults.drill import RETRY_SCHEDULE_S

StartPipeline = Callable[..., tuple[Stack, Path]]


@pytest.fixture
def start_pipeline(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StartPipeline]:
    """``start_pipeline(s3=False, receiver_delay_ms=0)``: broker (the test's), Valkey, receiver and the services
    (notify on the drills' short retry schedule)."""
    started: list[Stack] = []
    broker = broker_of(request)

    def start(**options: object) -> tuple[Stack, Path]:
        env = {"WASPADA_RETRY_SCHEDULE_S": RETRY_SCHEDULE_S}
        workdir = tmp_path / f"stack{len(started)}"
        stack, record = stacks.start_pipeline(workdir, broker=broker, env=env, **options)  # type: ignore[arg-type]
        started.append(stack)
        return stack, record

    yield start
    for stack in started:
        stack.stop()
