"""The commit barrier: an offset is committed only once the village states and revisions it covers are durable.

Faust's own barrier (``producer.flush()`` before the commit) does not guarantee that for records
triage sends itself (``outbox.py``); ``commit_after_changelog`` makes it. ``Barrier`` tells
``/healthz`` where the barrier is: a commit that never ends is a stall.
"""

import time
from typing import Any

import faust

from services.triage.faust_patches import Flush, around_producer_flush
from services.triage.publishing import Revisions
from services.triage.villages import Villages


class Barrier:
    """Where the commit barrier is: what ``/healthz`` reports of it (a commit that never ends is a stall)."""

    def __init__(self) -> None:
        self.stage = "idle"
        self.since = time.monotonic()
        self.passed = 0

    def at(self, stage: str) -> None:
        self.stage, self.since = stage, time.monotonic()

    def report(self) -> dict[str, Any]:
        return {"stage": self.stage, "for_s": round(time.monotonic() - self.since, 1), "passed": self.passed}


def commit_after_changelog(app: faust.App, villages: Villages, revisions: Revisions, barrier: Barrier) -> None:
    """Make the barrier Faust's offset commit waits on cover the village states and their revisions.

    Faust commits an offset after ``producer.flush()``, whose buffer flush returns while a record is
    being handed to the Kafka client (and after 0.1 s in any case): an offset could be committed
    whose village state was never written, and a crash then lost that event from its incident (the
    replay skipped it, the recovered state did not have it). The offsets a commit writes are taken
    before it flushes, and every event among them changed its live state before it was acked, so
    writing the changed states now and waiting for the records outstanding, and for the revisions
    in flight, is enough.
    """

    async def flush_then_changelog(flush: Flush) -> None:
        barrier.at("writing states")
        await villages.write_dirty()
        barrier.at("flushing Faust's producer")
        await flush()
        barrier.at("waiting for state acknowledgements")
        await villages.outbox.acknowledged()
        barrier.at("waiting for revisions")
        await revisions.settled()
        barrier.at("idle")
        barrier.passed += 1

    around_producer_flush(app, flush_then_changelog)
