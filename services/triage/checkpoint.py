"""The checkpoint: the one place that orders an offset commit after the records its events caused.

Faust commits an offset after ``producer.flush()``, whose buffer flush returns while a record is
being handed to the Kafka client (and after 0.1 s in any case), and it knows nothing of the records
triage sends itself (``outbox.py``): an offset could be committed whose village state was never
written, and a crash then lost that event from its incident. So every commit passes through
``Checkpoint.before_commit`` (hooked into Faust's flush, ``faust_patches.around_producer_flush``),
which runs the order below and returns only once each step holds:

1. **states written**: every village changed since the last checkpoint gets one changelog record
   (its live state, however many events it saw: ``Villages.write_dirty``);
2. **Faust's producer flushed**: dead letters and re-keyed records Faust sent for these events;
3. **states acknowledged**: the outbox hands over what is open and waits for every record sent
   before, states and revisions alike (``Outbox.acknowledged``);
4. **revisions acknowledged**: each revision goes out only once its state is acknowledged
   (``publishing.py``), so this waits for the revisions of the batch, and raises if one was lost.

Only then does Faust write the offsets, which it took before the flush: every event among them
changed its live state before it was acked, so the four steps cover exactly those events. This is
the at-least-once design the Quix Streams and arroyo checkpoints use. ``report`` tells ``/healthz``
where a checkpoint is: one that never ends is a stall.
"""

import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import faust

from services.triage.faust_patches import around_producer_flush

STEPS = ("writing states", "flushing Faust's producer", "waiting for state acknowledgements", "waiting for revisions")


class States(Protocol):
    async def write_dirty(self) -> None: ...


class Outbox(Protocol):
    async def acknowledged(self) -> None: ...


class Revisions(Protocol):
    async def settled(self) -> None: ...


class Checkpoint:
    """Runs the commit order (module docstring) and reports where it is."""

    def __init__(self, states: States, outbox: Outbox, revisions: Revisions) -> None:
        self.states, self.outbox, self.revisions = states, outbox, revisions
        self.stage = "idle"
        self.since = time.monotonic()
        self.passed = 0

    async def before_commit(self, flush: Callable[[], Awaitable[None]]) -> None:
        """The four steps, in order; raises (and the commit does not happen) if one fails."""
        self._at(STEPS[0])
        await self.states.write_dirty()
        self._at(STEPS[1])
        await flush()
        self._at(STEPS[2])
        await self.outbox.acknowledged()
        self._at(STEPS[3])
        await self.revisions.settled()
        self._at("idle")
        self.passed += 1

    def hook_into(self, app: faust.App) -> None:
        """Make every offset commit (and revocation) of ``app`` pass through ``before_commit``."""
        around_producer_flush(app, self.before_commit)

    def report(self) -> dict[str, Any]:
        return {"stage": self.stage, "for_s": round(time.monotonic() - self.since, 1), "passed": self.passed}

    def _at(self, stage: str) -> None:
        self.stage, self.since = stage, time.monotonic()
