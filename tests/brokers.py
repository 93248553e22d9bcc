"""Which broker a test gets: ``@pytest.mark.broker("kafka")`` on the test or its module, else the embedded one.

The fixtures read it (``infra``, ``pipeline``, ``new_stack``, the drills' ``start_pipeline``), so
no test body knows which broker it has. ``"kafka"`` is one Apache Kafka node, ``"kafka3"`` the
three-node cluster of the fault drills (docs/brokers.md has the matrix).
"""

from collections import Counter
from collections.abc import Callable, Iterable

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


def broker_of_item(item: pytest.Item) -> str:
    """The broker a collected test runs on, for the session summary: its marker's, else the embedded
    one for an integration test, else none (pure logic; a few integration tests need only Valkey)."""
    marker = item.get_closest_marker("broker")
    if marker is not None:
        return str(marker.args[0])
    return "embedded" if item.get_closest_marker("integration") else "none"


def broker_summary(items: Iterable[pytest.Item], starts: Iterable[tuple[int, float]]) -> str:
    """``broker embedded: N tests, kafka: M, kafka3: K, none: L; Apache Kafka started C times (…)``."""
    counts = Counter(broker_of_item(item) for item in items)
    first, *rest = [f"{b}: {counts.get(b, 0)}" for b in (*BROKERS, "none")]
    tests = ", ".join([f"{first} tests", *rest])
    runs = list(starts)
    kafka = f"Apache Kafka started {len(runs)} times ({sum(n for n, _ in runs)} nodes, {sum(s for _, s in runs):.0f} s)"
    return f"broker {tests} (no broker); {kafka}"


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
