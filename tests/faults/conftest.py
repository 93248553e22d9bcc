"""Fixtures of the fault drills: a whole pipeline of its own per drill, stopped however the drill ends."""

from collections.abc import Callable, Generator, Iterator
from pathlib import Path

import pytest

from bench import stacks
from devstack.stack import Stack
from tests.brokers import broker_of
from tests.faults import drill
from tests.faults.drill import RETRY_SCHEDULE_S

StartPipeline = Callable[..., tuple[Stack, Path]]


@pytest.fixture
def start_pipeline(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StartPipeline]:
    """``start_pipeline(s3=False, receiver_delay_ms=0, replicas=1)``: broker (the test's), Valkey, receiver and
    the services, ``replicas`` of each (notify on the drills' short retry schedule)."""
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


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, object, object]:
    """Keep each phase's report on the item: the drill log says whether the test passed, and why not."""
    report = yield
    setattr(item, f"report_{call.when}", report)
    return report


@pytest.fixture(autouse=True)
def drill_log(request: pytest.FixtureRequest) -> Iterator[None]:
    """With ``WASPADA_DRILL_LOG`` (``make drills``): one JSON line per drill run, its outcome and its books."""
    drill.RECORDED.clear()
    yield
    if drill.DRILL_LOG is None:
        return
    setup = getattr(request.node, "report_setup", None)
    report = getattr(request.node, "report_call", None) or setup
    passed = bool(report is not None and report.passed and setup is not None and setup.passed)
    crash = getattr(getattr(report, "longrepr", None), "reprcrash", None)
    error = "" if passed else str(getattr(crash, "message", "") or getattr(report, "longrepr", "") or "no report")
    books = drill.RECORDED[-1] if drill.RECORDED else None
    xfailed = bool(report is not None and hasattr(report, "wasxfail"))
    drill.log_run(drill.DRILL_LOG, request.node.name, passed, books, ("xfailed: " if xfailed else "") + error)
