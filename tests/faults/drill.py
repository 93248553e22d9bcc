"""One fault drill: steady load through the whole pipeline, a fault in the middle, then the books.

The books: events ingest answered 202, escalations on the topic, notifications the receiver
answered 2xx, and any webhook-id that arrived again after a 2xx. Every load event is an
escalating tip in a village of its own, so "nothing answered 202 is lost" reads as: every
accepted village has an escalation on the topic and a delivered notification.

The books also say how long the pipeline took to flow again after the fault (``resumed_s``): the
time from the fault to the first escalation, written after it, on the partition that waited the
longest (escalations are keyed by village as the input is, so escalations partition p is the
output of input partition p). A drill that moves partitions to other workers narrows it to the
moved ones (``resumed_on``): then it is the takeover time. ``make drills`` (bench/drills.py)
collects a line of these figures per run (``WASPADA_DRILL_LOG``).
"""

import json
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import events, kafka_tools, stacks
from bench.kafka_tools import Placed
from bench.load import BackgroundLoad, Sent
from bench.receiver import read_record
from devstack.processes import run_to_end
from devstack.stack import Stack
from schemas.topics import Topics
from tests.support import healthz

LONG = os.environ.get("WASPADA_FAULTS_LONG") == "1"
"""``make faults`` sets it: the drills' long variants (a 30 s broker stall, a receiver down for a minute)."""


RETRY_SCHEDULE_S = "1,2,4,8,16,30,30,30,30,30,30,30,30,30,30"
"""The drills' retry schedule: 16 attempts over about five minutes (Standard Webhooks' day-long default would
park a delivery for 5 min after its second failure, past every drill's settling time; a receiver is down
for 10 s, or a minute in ``make faults``)."""


DRILL_LOG = os.environ.get("WASPADA_DRILL_LOG")
"""``make drills`` sets it: a JSON line of every drill's books is appended to this file (tests/faults/conftest.py)."""

TRIAGE_GROUP = "waspada-triage"
"""triage's consumer group (its ``WASPADA_TRIAGE_APP_ID`` default, which the drills' stacks keep)."""

RECORDED: list["Books"] = []
"""The books of the drills run by the current test, for its line in ``DRILL_LOG``."""


def seconds(short: float, long: float) -> float:
    """The duration of a drill phase: ``short`` in ``make test``, ``long`` in ``make faults``."""
    return long if LONG else short


@dataclass
class Books:
    """What happened to the load of one drill."""

    sent: list[Sent]
    placed: list[Placed]
    """The escalations on the topic, with their partition and timestamp."""
    deliveries: list[dict[str, Any]]
    fault_at: float
    healed_at: float
    catch_up_s: float | None
    statuses: Counter[tuple[int, str]] = field(default_factory=Counter)
    health: dict[str, str] = field(default_factory=dict)
    """``/healthz`` of triage and notify when the drill did not catch up: what they said they were doing."""
    resumed_on: set[int] | None = None
    """The escalations partitions ``resumed_s`` looks at (those that moved to another triage); None: all."""
    notify_resumed_on: set[int] | None = None
    """The escalations partitions ``notify_resumed_s`` looks at (those that moved to another notify); None: all."""
    notify_killed_at: float | None = None
    """When a notify was SIGKILLed (a drill that kills one): 2xx answers from then on had nobody to read them."""
    notes: dict[str, Any] = field(default_factory=dict)
    """What the drill did, for its line in the log (which node it killed, which partitions it led…)."""

    @property
    def escalations(self) -> list[dict[str, Any]]:
        return [p.value for p in self.placed]

    @property
    def partition_of(self) -> dict[str, int]:
        """Village -> its escalations partition (the same number as its input partition: both keyed by village)."""
        return {p.value["desa_code"]: p.partition for p in self.placed if "desa_code" in p.value}

    @property
    def lost(self) -> set[str]:
        """Villages answered 202 ``accepted`` that never got a 2xx notification."""
        return self.accepted - self.delivered

    @property
    def resumed_s(self) -> float | None:
        """Seconds from the fault to the first escalation written after it, on the slowest partition looked at.

        None when one of those partitions got no escalation after the fault at all.
        """
        looked_at = self.resumed_on if self.resumed_on is not None else {p.partition for p in self.placed}
        return _slowest(looked_at, {(p.partition, p.t) for p in self.placed}, self.fault_at)

    @property
    def notify_resumed_s(self) -> float | None:
        """Seconds from the fault to the first 2xx delivery (the receiver's clock) of an escalation written after
        it, on the slowest of the partitions looked at: only a notify alive after the fault can have sent those."""
        written = {p.value.get("escalation_id"): p for p in self.placed if p.t >= self.fault_at}
        looked_at = self.notify_resumed_on if self.notify_resumed_on is not None else {p.partition for p in self.placed}
        got = {(written[d["escalation_id"]].partition, d["t"]) for d in self.deliveries
               if 200 <= d["status"] < 300 and d["escalation_id"] in written}  # fmt: skip
        return _slowest(looked_at, got, self.fault_at)

    def redelivered_after_unread_success(self, killed_at: float) -> list[str]:
        """Of ``redelivered_after_success``, the webhook-ids whose first 2xx the receiver decided at or after
        ``killed_at``, the moment the notify sending them was SIGKILLed: an answer nobody was left to read.

        The receiver stamps a record before its answer is written back, so a stamp after the kill is an
        answer the dead process cannot have seen; the survivor, replaying the uncommitted batch, sends the
        same delivery again with the same webhook-id (the receiver's key to drop it, Standard Webhooks).
        """
        first: dict[str, float] = {}
        for d in sorted(self.deliveries, key=lambda d: d["t"]):
            if 200 <= d["status"] < 300:
                first.setdefault(d["webhook_id"], d["t"])
        return [w for w in self.redelivered_after_success() if first[w] >= killed_at]

    @property
    def double_delivered(self) -> list[str]:
        """webhook-ids delivered again after a 2xx their sender could have read (all of them, unless notify was
        killed: then not those answered after the kill, ``redelivered_after_unread_success``)."""
        unread = set(self.redelivered_after_unread_success(self.notify_killed_at)) if self.notify_killed_at else set()
        return [w for w in self.redelivered_after_success() if w not in unread]

    def first_success_since_kill(self, webhook_ids: list[str]) -> list[float]:
        """For each of ``webhook_ids``, its first 2xx's receiver stamp minus ``notify_killed_at`` (s; negative:
        before the kill): how close to the kill a delivery sent twice was answered the first time."""
        if self.notify_killed_at is None:
            return []
        first: dict[str, float] = {}
        for d in sorted(self.deliveries, key=lambda d: d["t"]):
            if 200 <= d["status"] < 300:
                first.setdefault(d["webhook_id"], d["t"])
        return [round(first[w] - self.notify_killed_at, 4) for w in webhook_ids if w in first]

    def figures(self) -> dict[str, Any]:
        """The numbers ``make drills`` tabulates."""
        return {
            "double_first_2xx_since_kill_s": self.first_success_since_kill(self.double_delivered),
            "sent": len(self.sent),
            "accepted": len(self.accepted),
            "not_escalated": len(self.accepted - self.escalated),
            "escalation_records": len(self.placed),
            "escalations_written_again": len(self.placed) - len({p.value.get("escalation_id") for p in self.placed}),
            "lost": len(self.lost),
            "double_delivered": len(self.double_delivered),
            "again_after_unread_2xx": len(self.redelivered_after_success()) - len(self.double_delivered),
            "resumed_s": _round(self.resumed_s),
            "notify_resumed_s": _round(self.notify_resumed_s),
            "catch_up_s": _round(self.catch_up_s),
            "answers": {f"{code} {word or '-'}": n for (code, word), n in sorted(self.statuses.items())},
            "health": self.health,
            **self.notes,
        }

    @property
    def accepted(self) -> set[str]:
        return {s.desa_code for s in self.sent if s.status == 202 and s.answer == "accepted"}

    @property
    def accepted_after_fault(self) -> set[str]:
        return {s.desa_code for s in self.sent if s.status == 202 and s.t_sent > self.healed_at}

    @property
    def escalated(self) -> set[str]:
        return {e["desa_code"] for e in self.escalations}

    @property
    def delivered(self) -> set[str]:
        return {d["desa_code"] for d in self.deliveries if 200 <= d["status"] < 300}

    def redelivered_after_success(self) -> list[str]:
        """webhook-ids that arrived again after the receiver had answered 2xx for them."""
        done: set[str] = set()
        again: list[str] = []
        for d in sorted(self.deliveries, key=lambda d: d["t"]):
            if d["webhook_id"] in done:
                again.append(d["webhook_id"])
            if 200 <= d["status"] < 300:
                done.add(d["webhook_id"])
        return again

    def summary(self) -> str:
        answered = ", ".join(f"{code} {word or '-'}: {n}" for (code, word), n in sorted(self.statuses.items()))
        catch_up = f"{self.catch_up_s:.1f} s" if self.catch_up_s is not None else "never (timed out)"
        return (
            f"sent {len(self.sent)} ({answered}); accepted villages {len(self.accepted)}, "
            f"{len(self.accepted_after_fault)} after the fault; escalations on the topic {len(self.escalations)}; "
            f"notifications delivered {sum(1 for d in self.deliveries if 200 <= d['status'] < 300)} "
            f"to {len(self.delivered)} villages; redelivered after a success {len(self.redelivered_after_success())} "
            f"({len(self.double_delivered)} of them after a 2xx the sender could read); "
            f"caught up {catch_up} after the load stopped; resumed {_round(self.resumed_s)} s after the fault "
            f"(notify {_round(self.notify_resumed_s)} s)"
            + "".join(f"; {name} /healthz then: {said}" for name, said in self.health.items())
            + (f"; not escalated: {self.notes['not_escalated_where']}" if "not_escalated_where" in self.notes else "")
        )


def _slowest(partitions: set[int], seen: set[tuple[int, float]], since: float) -> float | None:
    """The longest wait, over ``partitions``, from ``since`` to the first (partition, time) of ``seen`` after it."""
    waits = []
    for partition in partitions:
        after = [t for p, t in seen if p == partition and t >= since]
        if not after:
            return None
        waits.append(min(after) - since)
    return max(waits) if waits else None


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def log_run(path: str | Path, drill: str, passed: bool, books: "Books | None", error: str = "") -> None:
    """Append one run's line to the drill log: which drill, passed or not, and its books' figures."""
    line = {"drill": drill, "t": time.time(), "passed": passed, "error": error[:500]}
    if books is not None:
        line.update(books.figures())
    with Path(path).open("a", encoding="utf-8") as out:
        out.write(json.dumps(line) + "\n")


def villages() -> Iterator[dict[str, Any]]:
    """Escalating tips, one fresh covered village each."""
    return (events.escalating_tip(code) for code in events.covered_villages())


def run_drill(
    stack: Stack,
    record: Any,
    fault: Callable[[], None],
    *,
    before: float = 2.0,
    after: float = 3.0,
    rate: float = 20.0,
    settle_timeout: float = seconds(25, 120),
) -> Books:
    """Load for ``before`` s, ``fault()`` (which returns once healed), load ``after`` s more, then settle.

    The load goes to every ingest replica of the stack in turn (``bench.load.post_balanced``).
    """
    load = BackgroundLoad(stacks.ingest_urls(stack), villages(), rate=rate).start()
    time.sleep(before)
    fault_at = time.time()
    try:
        fault()
    finally:
        healed_at = time.time()
        time.sleep(after)
        sent = load.stop()
    stopped = time.monotonic()
    accepted = {s.desa_code for s in sent if s.status == 202 and s.answer == "accepted"}
    catch_up: float | None = None
    while time.monotonic() - stopped < settle_timeout:
        got = {d["desa_code"] for d in read_record(record) if 200 <= d["status"] < 300}
        if accepted <= got:
            catch_up = time.monotonic() - stopped
            break
        time.sleep(0.5)
    time.sleep(0.5)  # late redeliveries, if any, show up in the record too
    health = {} if catch_up is not None else _health(stack)
    books = Books(
        sent=sent,
        placed=kafka_tools.read_placed(stack.kafka_bootstrap or "", Topics.ESCALATIONS),
        deliveries=read_record(record),
        fault_at=fault_at,
        healed_at=healed_at,
        catch_up_s=catch_up,
        statuses=Counter((s.status, s.answer) for s in sent),
        health=health,
    )
    if books.accepted - books.escalated:
        books.notes["not_escalated_where"] = _where_stuck(stack, books.accepted - books.escalated)
    RECORDED.append(books)
    return books


def _where_stuck(stack: Stack, villages: set[str]) -> dict[str, Any]:
    """For villages accepted and never escalated: where their tips are, and where triage's group stands.

    A committed offset past a tip's offset means triage moved on without its escalation; one before it
    means triage never got that far (a stalled partition). Both are what a report of the bug needs.
    """
    bootstrap = stack.kafka_bootstrap or ""
    tips = kafka_tools.read_placed(bootstrap, Topics.TIPS)
    at = sorted((p.partition, p.offset) for p in tips if p.value.get("desa_code") in villages)
    group = run_to_end(lambda: kafka_tools.committed_and_ends(bootstrap, TRIAGE_GROUP, Topics.TIPS))
    dead = Counter(
        f"{d.value.get('stage')}/{d.value.get('reason')}" for d in kafka_tools.read_placed(bootstrap, Topics.DEADLETTER)
    )
    return {
        "tips_partitions": sorted({p for p, _ in at}),
        "tips_at": [f"{p}:{o}" for p, o in at][:60],
        "triage_committed_and_end": {str(p): list(v) for p, v in group.items()},
        "deadletters": dict(dead),
    }


def _health(stack: Stack) -> dict[str, str]:
    """What triage and notify (every replica) report on ``/healthz``, for a drill that did not catch up."""
    names = [n for n in stack.processes if n.split("-")[0] in ("triage", "notify")]
    return {name: healthz(stack, name)[:600] for name in names}


def assert_nothing_lost(books: Books) -> None:
    """The drill's promises: 202 means delivered, nothing twice after a success, ingest recovered by itself."""
    print(books.summary())
    assert books.accepted, "the load got no 202 at all"
    assert books.accepted_after_fault, "ingest accepted nothing after the fault healed"
    unexpected = {code for code, _ in books.statuses if code not in (202, 503)}
    assert not unexpected, f"ingest answered {sorted(unexpected)} (only 202 or 503 are allowed): {books.summary()}"
    not_escalated = books.accepted - books.escalated
    assert not not_escalated, f"{len(not_escalated)} accepted villages never escalated: {books.summary()}"
    lost = books.lost
    assert not lost, f"{len(lost)} accepted villages never notified (e.g. {sorted(lost)[:3]}): {books.summary()}"
    again = books.double_delivered
    assert not again, f"{len(again)} webhook-ids delivered again after a success: {books.summary()}"
    assert books.catch_up_s is not None
