"""Fixtures: a real broker and a real Valkey on free ports, started by the suite itself.

The broker is the one the test asks for with ``@pytest.mark.broker(...)`` (tests/brokers.py).
"""

from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack.kafka import cluster
from devstack.stack import Broker, Stack
from tests.brokers import PerBroker, broker_of, broker_summary, started
from tests.support import start_pipeline


@pytest.fixture(scope="session")
def infras(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PerBroker]:
    """One broker and one Valkey per kind of broker, for the session."""

    def start_infra(stack: Stack) -> None:
        stack.start_broker()
        stack.start_valkey()

    def start(broker: Broker) -> Stack:
        return started(Stack(workdir=tmp_path_factory.mktemp(f"infra-{broker}"), broker=broker), start_infra)

    pool = PerBroker(start)
    yield pool
    pool.stop()


@pytest.fixture
def infra(request: pytest.FixtureRequest, infras: PerBroker) -> Stack:
    """The session's broker (of the test's kind) and Valkey (tests that need isolation make their own)."""
    return infras.get(broker_of(request))


@pytest.fixture(scope="session")
def pipelines(infras: PerBroker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[PerBroker]:
    """sink, notify, triage and ingest as real processes on the session's broker and Valkey, per broker."""

    def start(broker: Broker) -> Stack:
        return started(infras.get(broker).sharing(tmp_path_factory.mktemp(f"pipeline-{broker}")), start_pipeline)

    pool = PerBroker(start)
    yield pool
    pool.stop()


@pytest.fixture
def pipeline(request: pytest.FixtureRequest, pipelines: PerBroker) -> Stack:
    """The session's pipeline on the broker the test asks for."""
    return pipelines.get(broker_of(request))


@pytest.fixture
def new_stack(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Stack]:
    """A stack of its own (own broker and Valkey) for tests that kill or stall processes."""
    stack = Stack(workdir=tmp_path, broker=broker_of(request))
    yield stack
    stack.stop()


_RAN: list[pytest.Item] = []


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    _RAN[:] = items  # after -k/-m deselection and the hooks before ours: what runs


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """One line: how many of the tests that ran were on which broker, and what the Kafka starts cost."""
    terminalreporter.write_line(broker_summary(_RAN, cluster.STARTS))
