"""Which broker a test gets: ``@pytest.mark.broker("kafka")`` on the test or its module, else the embedded one.

The fixtures read it (``infra``, ``pipeline``, ``new_stack``, the drills' ``start_pipeline``), so
no test body knows which broker it has. ``"kafka"`` is one Apache Kafka node, ``"kafka3"`` the
three-node cluster of the fault drills (docs/brokers.md has the matrix).
"""

from collections.abc import Callable

import pytest

from devstack.stack import BROKERS, Broker, Stack


def broker_of(request: pytest.FixtureRequest) -> Broker:
    """The broker the requesting test (or module, for a module-scoped fixture) asks for."""
    marker = request.node.get_closest_marker("broker")
    if marker is None:
        return "embedded"
    for broker in BROKERS:
        if marker.args == (broker,):
            return broker
    raise pytest.UsageError(f"@pytest.mark.broker{marker.args}: expected one of {', '.join(BROKERS)}")


def started(stack: Stack, start: Callable[[Stack], object]) -> Stack:
    """``start(stack)``, stopping whatever it started when it fails."""
    try:
        start(stack)
    except BaseException:
        stack.stop()
        raise
    return stack


class PerBroker:
    """Session-long stacks, one per broker, each started when a test first asks for it.

    A start that failed is not tried again by every later test of the session: they fail at once
    with the first error as the cause.
    """

    def __init__(self, start: Callable[[Broker], Stack]) -> None:
        self._start = start
        self._stacks: dict[Broker, Stack] = {}
        self._failed: dict[Broker, Exception] = {}

    def get(self, broker: Broker) -> Stack:
        if broker in self._failed:
            raise RuntimeError(f"the {broker} stack did not start earlier in this session") from self._failed[broker]
        if broker not in self._stacks:
            try:
                self._stacks[broker] = self._start(broker)
            except Exception as exc:
                self._failed[broker] = exc
                raise
        return self._stacks[broker]

    def stop(self) -> None:
        for stack in self._stacks.values():
            stack.stop()
        self._stacks.clear()
