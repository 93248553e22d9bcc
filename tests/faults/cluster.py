"""What the drills ask the three-node cluster: who leads which partition, who in a group holds which."""

import time

from bench import kafka_tools
from devstack.processes import run_to_end
from devstack.stack import Stack


def leaders(stack: Stack, topic: str) -> dict[int, int]:
    """Partition -> the node leading it now."""
    bootstrap = stack.kafka_bootstrap or ""
    return run_to_end(lambda: kafka_tools.leaders(bootstrap, topic))


def assignment(stack: Stack, group: str) -> dict[str, set[tuple[str, int]]]:
    """Member id -> its (topic, partition)s in ``group``."""
    bootstrap = stack.kafka_bootstrap or ""
    return run_to_end(lambda: kafka_tools.group_assignment(bootstrap, group))


def wait_leaders_off(stack: Stack, node_id: int, topics: tuple[str, ...], timeout: float = 30.0) -> float:
    """Wait until no partition of ``topics`` names ``node_id`` as its leader; the seconds that took.

    The metadata comes from the nodes still up: the controller moves leadership once the node's
    broker session (6 s, devstack/kafka/cluster.py) has expired, or at once for a node it saw leave.
    """
    start = time.monotonic()
    while True:
        try:
            if all(node_id not in leaders(stack, topic).values() for topic in topics):
                return time.monotonic() - start
        except Exception:  # a metadata request that went to the dead node, or timed out: ask again
            pass
        if time.monotonic() - start > timeout:
            raise AssertionError(f"node {node_id} still leads partitions of {topics} after {timeout:.0f} s")
        time.sleep(0.25)


def wait_sole_member(
    stack: Stack, group: str, topic: str, partitions: int, timeout: float = 60.0
) -> dict[str, set[int]]:
    """Wait until one member of ``group`` holds every partition of ``topic``; returns the assignment then."""
    start = time.monotonic()
    while True:
        try:
            now = assignment(stack, group)
            held = {member: {p for t, p in parts if t == topic} for member, parts in now.items()}
            if len(held) == 1 and len(next(iter(held.values()))) == partitions:
                return held
        except Exception:  # the group is rebalancing, or its coordinator moving: ask again
            pass
        if time.monotonic() - start > timeout:
            raise AssertionError(f"{group}: no single member holds all of {topic} after {timeout:.0f} s")
        time.sleep(0.25)


def controller(stack: Stack) -> int:
    """The node the cluster names as its controller now."""
    bootstrap = stack.kafka_bootstrap or ""
    return run_to_end(lambda: kafka_tools.controller(bootstrap))
