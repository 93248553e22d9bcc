"""The broker misbehaves under load: a partition leader of the three-node cluster killed, one node stalled
(SIGSTOP … SIGCONT), and the embedded broker killed with its log in S3 (its own storage engine).

On the cluster (replication factor 3, ``min.insync.replicas=2``) each of these leaves two in-sync
replicas, so producers with ``acks=all`` keep writing once leadership has moved: nothing ingest
answered 202 for may be lost, and nothing notify delivered may arrive twice.
"""

import signal
import time

import pytest

from bench import stacks
from schemas.topics import Topics
from tests.faults.cluster import controller, leaders, wait_leaders_off
from tests.faults.conftest import StartPipeline
from tests.faults.drill import assert_nothing_lost, run_drill, seconds

pytestmark = pytest.mark.integration

DOWN_S = 8.0
"""How long a killed node stays down: past its broker session (6 s), so the controller fences it and its
partitions are led by the other replicas before it comes back, rather than it returning as their leader."""

STALL_S = seconds(10, 30)
"""The stall: 30 s as issue 16 asks in ``make faults`` and ``make drills``; 10 s in ``make test``, whose 15 min
budget the 30 s variant (80 s a run with the pipeline's start) would strain."""


@pytest.mark.broker("kafka3")
def test_leader_of_an_input_and_an_escalations_partition_killed_and_restarted_loses_nothing(
    start_pipeline: StartPipeline,
) -> None:
    stack, record = start_pipeline()
    assert stack.kafka is not None
    cluster = stack.kafka
    killed: list[int] = []
    moved_s: list[float] = []
    led: dict[str, dict[int, int]] = {}
    killed_at: list[float] = []
    active_controller: list[int] = []

    def crash() -> None:
        led.update(tips=leaders(stack, Topics.TIPS), escalations=leaders(stack, Topics.ESCALATIONS))
        active_controller.append(controller(stack))
        both = set(led["tips"].values()) & set(led["escalations"].values())
        # one node that leads a partition of each when there is one (there nearly always is: 4 over 3), else both
        killed.extend([min(both)] if both else sorted({led["tips"][0], led["escalations"][0]}))
        killed_at.append(time.time())
        for node_id in killed:
            down_since = time.monotonic()
            cluster.kill(node_id)
            moved_s.append(round(wait_leaders_off(stack, node_id, (Topics.TIPS, Topics.ESCALATIONS)), 2))
            time.sleep(max(0.0, DOWN_S - (time.monotonic() - down_since)))
            cluster.restart(node_id)  # same id, ports and (crashed) log dir; waits until every node serves

    books = run_drill(stack, record, crash)
    books.fault_at = killed_at[0]
    books.notes.update(killed=killed, leaders_moved_s=moved_s, leaders_before=led, controller=active_controller)
    # the load did use an input partition the killed node led: escalations of it were written after the kill
    input_led = {p for p, node in led["tips"].items() if node in killed}
    assert any(p.partition in input_led and p.t > books.fault_at for p in books.placed), books.summary()
    assert_nothing_lost(books)


@pytest.mark.broker("kafka3")
def test_broker_stalled_under_load_loses_nothing(start_pipeline: StartPipeline) -> None:
    """SIGSTOP the node leading input partition 0 for ``STALL_S`` (30 s; 10 s in ``make test``), then SIGCONT.

    A stalled node is not a dead one: its sockets stay open and its requests never answer, until the
    controller fences it (no heartbeat for 6 s) and the clients' requests to it time out.
    """
    stack, record = start_pipeline()
    assert stack.kafka is not None
    cluster = stack.kafka
    notes: dict[str, object] = {}

    def stall() -> None:
        node_id = leaders(stack, Topics.TIPS)[0]
        notes.update(stalled=node_id, stalled_s=STALL_S, controller=controller(stack))
        stalled_at = time.monotonic()
        cluster.node(node_id).proc.signal(signal.SIGSTOP)
        try:  # a fact about the cluster, for the log: did it lead elsewhere while the node was stalled, and when
            moved = wait_leaders_off(stack, node_id, (Topics.TIPS, Topics.ESCALATIONS), STALL_S - 1)
            notes["leaders_moved_s"] = round(moved, 2)
        except AssertionError:
            notes["leaders_moved_s"] = None
        time.sleep(max(0.0, STALL_S - (time.monotonic() - stalled_at)))
        cluster.node(node_id).proc.signal(signal.SIGCONT)
        cluster.wait_ready()

    books = run_drill(stack, record, stall, settle_timeout=seconds(45, 120))
    books.notes.update(notes)
    assert_nothing_lost(books)


def test_broker_killed_and_restarted_with_its_log_in_s3_loses_nothing(start_pipeline: StartPipeline) -> None:
    stack, record = start_pipeline(s3=True)
    assert "--storage-engine" in stack.processes["broker"].argv

    def crash() -> None:
        stacks.restart(stack, "broker", kill=True, down_for=2.0)

    # every record the broker writes is an object PUT to moto's S3 server (Python, on the same 2 cores): triage's
    # changelog, escalations and commits crawl when the machine is busy (seen: 2-3 escalations/s with other
    # tests running beside it), so the catch-up is given longer than on the in-memory broker
    assert_nothing_lost(run_drill(stack, record, crash, rate=15.0, settle_timeout=seconds(60, 180)))
