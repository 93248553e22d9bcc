"""One fault drill: steady load through the whole pipeline, a fault in the middle, then the books.

The books: events ingest answered 202, escalations on the topic, notifications the receiver
answered 2xx, and any webhook-id that arrived again after a 2xx. Every load event is an
escalating tip in a village of its own, so "nothing answered 202 is lost" reads as: every
accepted village has an escalation on the topic and a delivered notification.
"""

import os
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from bench import events, kafka_tools
from bench.load import BackgroundLoad, Sent
from bench.receiver import read_record
from devstack.stack import Stack
from schemas.topics import Topics
from tests.support import healthz

LONG = os.environ.get("WASPADA_FAULTS_LONG") == "1"
"""``make faults`` sets it: the drills' long variants (a 30 s broker stall, a receiver down for a minute)."""


RETRY_SCHEDULE_S = "1,2,4,8,16,30,30,30,30,30,30,30,30,30,30"
"""The drills' retry schedule: 16 attempts over about five minutes (Standard Webhooks' day-long default would
park a delivery for 5 min after its second failure, past every drill's settling time; a receiver is down
for 10 s, or a minute in ``make faults``)."""


def seconds(short: float, long: float) -> float:
    """The duration of a drill phase: ``short`` in ``make test``, ``long`` in ``make faults``."""
    return long if LONG else short


@dataclass
class Books:
    """What happened to the load of one drill."""

    sent: list[Sent]
    escalations: list[dict[str, Any]]
    deliveries: list[dict[str, Any]]
    fault_at: float
    healed_at: float
    catch_up_s: float | None
    statuses: Counter[tuple[int, str]] = field(default_factory=Counter)
    health: dict[str, str] = field(default_factory=dict)
    """``/healthz`` of triage and notify when the drill did not catch up: what they said they were doing."""

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
            f"to {len(self.delivered)} villages; redelivered after a success {len(self.redelivered_after_success())}; "
            f"caught up {catch_up} after the load stopped"
            + "".join(f"; {name} /healthz then: {said}" for name, said in self.health.items())
        )


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
    """Load for ``before`` s, ``fault()`` (which returns once healed), load ``after`` s more, then settle."""
    load = BackgroundLoad(stack.url("ingest"), villages(), rate=rate).start()
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
    return Books(
        sent=sent,
        escalations=kafka_tools.read_json(stack.kafka_bootstrap or "", Topics.ESCALATIONS),
        deliveries=read_record(record),
        fault_at=fault_at,
        healed_at=healed_at,
        catch_up_s=catch_up,
        statuses=Counter((s.status, s.answer) for s in sent),
        health=health,
    )


def _health(stack: Stack) -> dict[str, str]:
    """What triage and notify report on ``/healthz``, for a drill that did not catch up."""
    return {name: healthz(stack, name)[:600] for name in ("triage", "notify") if name in stack.processes}


def assert_nothing_lost(books: Books) -> None:
    """The drill's promises: 202 means delivered, nothing twice after a success, ingest recovered by itself."""
    print(books.summary())
    assert books.accepted, "the load got no 202 at all"
    assert books.accepted_after_fault, "ingest accepted nothing after the fault healed"
    unexpected = {code for code, _ in books.statuses if code not in (202, 503)}
    assert not unexpected, f"ingest answered {sorted(unexpected)} (only 202 or 503 are allowed): {books.summary()}"
    not_escalated = books.accepted - books.escalated
    assert not not_escalated, f"{len(not_escalated)} accepted villages never escalated: {books.summary()}"
    lost = books.accepted - books.delivered
    assert not lost, f"{len(lost)} accepted villages never notified (e.g. {sorted(lost)[:3]}): {books.summary()}"
    again = books.redelivered_after_success()
    assert not again, f"{len(again)} webhook-ids delivered again after a success: {books.summary()}"
    assert books.catch_up_s is not None
