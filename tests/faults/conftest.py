"""Fixtures of the fault drills: a whole pipeline of its own per drill, stopped however the drill ends."""

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bench import stacks
from devstack.stack import Stack
from tests.faults.drill import RETRY_SCHEDULE_S

StartPipeline = Callable[..., tuple[Stack, Path]]


@pytest.fixture
def start_pipeline(tmp_path: Path) -> Iterator[StartPipeline]:
    """``start_pipeline(s3=False, receiver_delay_ms=0)``: broker, Valkey, receiver and the three services
    (notify on the drills' short retry schedule)."""
    started: list[Stack] = []

    def start(**options: object) -> tuple[Stack, Path]:
        env = {"WASPADA_RETRY_SCHEDULE_S": RETRY_SCHEDULE_S}
        stack, record = stacks.start_pipeline(tmp_path / f"stack{len(started)}", env=env, **options)  # type: ignore[arg-type]
        started.append(stack)
        return stack, record

    yield start
    for stack in started:
        stack.stop()
