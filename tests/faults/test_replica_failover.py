"""Two replicas of ingest, triage and notify; one of each SIGKILLed under load: the survivors take over.

ingest is stateless behind its load balancer (the load fails over as one would: ``post_balanced``);
triage's and notify's partitions move to the surviving member of their consumer group once the
dead one's session (6 s for both) expires; notify's record of what it delivered is in Valkey, which
both replicas share, so a delivery the dead one made is not made again by the survivor. What a kill
cannot avoid, and the books count apart (``again_after_unread_2xx``), is a webhook the receiver
answered 2xx after its sender was dead: nobody read that answer, and the survivor sends the same
delivery again under the same webhook-id, the key Standard Webhooks tells a receiver to dedupe on.

The takeover time reported (``resumed_s`` of the books) is measured on the broker's own clock:
from the kill to the first escalation record written, after it, on each escalations partition
whose input partition the killed triage held (escalations are keyed by village as the input
is, so the partition numbers are the same), the slowest of those partitions. ``notify_resumed_s``
is the same for notify: from the kill to the first 2xx webhook (the receiver's clock) of an
escalation on a partition the killed notify held.
"""

import time

import pytest

from schemas.topics import PARTITIONS, Topics
from services.notify.adapters.kafka import GROUP as NOTIFY_GROUP
from tests.faults.cluster import assignment, wait_sole_member
from tests.faults.conftest import StartPipeline
from tests.faults.drill import TRIAGE_GROUP, Books, assert_nothing_lost, run_drill

pytestmark = [pytest.mark.integration, pytest.mark.broker("kafka3")]


def held(members: dict[str, set[tuple[str, int]]], topic: str) -> dict[str, set[int]]:
    return {member: {p for t, p in parts if t == topic} for member, parts in members.items()}


def test_one_replica_of_each_service_killed_under_load_the_survivors_take_over(
    start_pipeline: StartPipeline,
) -> None:
    stack, record = start_pipeline(replicas=2)
    before: dict[str, dict[str, set[int]]] = {}
    after: dict[str, dict[str, set[int]]] = {}
    killed_at: dict[str, float] = {}

    def crash() -> None:
        before.update(triage=held(assignment(stack, TRIAGE_GROUP), Topics.TIPS),
                      notify=held(assignment(stack, NOTIFY_GROUP), Topics.ESCALATIONS))  # fmt: skip
        assert all(len(members) == 2 and all(members.values()) for members in before.values()), before
        for name in ("notify-2", "triage-2", "ingest-2"):
            killed_at[name] = time.time()  # just before the signal: a receiver's stamp after it had no reader
            stack.processes[name].kill()
        after["triage"] = wait_sole_member(stack, TRIAGE_GROUP, Topics.TIPS, PARTITIONS)
        after["notify"] = wait_sole_member(stack, NOTIFY_GROUP, Topics.ESCALATIONS, PARTITIONS)

    books = run_drill(stack, record, crash, after=5.0, settle_timeout=30.0)
    books.fault_at, books.notify_killed_at = min(killed_at.values()), killed_at["notify-2"]
    moved = {name: set().union(*(parts for m, parts in before[name].items() if m not in after[name]))
             for name in before}  # fmt: skip
    books.resumed_on, books.notify_resumed_on = moved["triage"], moved["notify"]
    books.notes.update(moved_triage=sorted(moved["triage"]), moved_notify=sorted(moved["notify"]), killed_at=killed_at)
    assert moved["triage"] and moved["notify"], f"no partition moved: before {before}, after {after}"
    if books.accepted - books.escalated:
        known_triage_bug(books, moved["triage"])
    assert_nothing_lost(books)
    assert books.resumed_s is not None, f"a moved partition got no escalation after the kill: {books.summary()}"
    assert books.notify_resumed_s is not None, f"a moved partition got no delivery after the kill: {books.summary()}"
    print(f"takeover: triage {books.resumed_s:.2f} s, notify {books.notify_resumed_s:.2f} s")


def known_triage_bug(books: Books, moved: set[int]) -> None:
    """xfail when what failed is exactly triage's open takeover bug, and fail on anything else.

    The bug (reported with issue 16 item 4; triage is being reworked): after the kill, the surviving
    triage sometimes consumes tips of the input partitions it took over, commits past them, and
    writes no escalation for them (e.g. tips 1:8-1:55 never escalated, the group committed at the
    partition's end). Only that symptom xfails: missing villages all on moved partitions, and every
    escalation that did reach the topic delivered, none twice.
    """
    where = books.notes.get("not_escalated_where", {})
    on_moved = set(where.get("tips_partitions", [])) <= moved
    notify_fine = books.escalated <= books.delivered and not books.double_delivered
    if on_moved and notify_fine:
        pytest.xfail(
            f"triage takeover bug: {len(books.accepted - books.escalated)} accepted villages on moved input "
            f"partitions {sorted(moved)} never escalated; tips at {where.get('tips_at', [])[:8]}…, "
            f"triage committed/end {where.get('triage_committed_and_end')}"
        )
