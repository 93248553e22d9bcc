"""Fixtures: a real broker and a real Valkey on free ports, started by the suite itself."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack.stack import Stack
from tests.support import start_pipeline


@pytest.fixture(scope="session")
def infra(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """One broker and one Valkey for the session (tests that need isolation make their own)."""
    stack = Stack(workdir=tmp_path_factory.mktemp("infra"))
    stack.start_broker()
    stack.start_valkey()
    yield stack
    stack.stop()


@pytest.fixture(scope="session")
def pipeline(infra: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """sink, notify, triage and ingest as real processes on the session's broker and Valkey."""
    stack = Stack(
        workdir=tmp_path_factory.mktemp("pipeline"), kafka_bootstrap=infra.kafka_bootstrap, redis_url=infra.redis_url
    )
    start_pipeline(stack)
    yield stack
    stack.stop()


@pytest.fixture
def new_stack(tmp_path: Path) -> Iterator[Stack]:
    """A stack of its own (own broker and Valkey) for tests that kill or stall processes."""
    stack = Stack(workdir=tmp_path)
    yield stack
    stack.stop()
