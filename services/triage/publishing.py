"""Escalation revisions on their topic: in order per village, several villages in flight at once.

A revision is sent only once the changelog record of the state that names it is acknowledged,
and the agent starts a village's next event only once that village's last revision is
acknowledged (``idle``). So after a crash at most a village's latest revision can be missing, and
its state holds it: the trigger, read again, re-sends it byte for byte (decide's ``replay``), or
the village's next revision after a restart sends it first. Other villages meanwhile go on: the
two broker round trips of one revision no longer hold back every event behind it.

The offset commit waits for every revision in flight (``settled``), so an event whose revision
was never acknowledged is read again after a crash.
"""

import asyncio
from typing import Any

from services.common.logs import get_logger
from services.triage import metrics
from services.triage.outbox import Outbox

log = get_logger(__name__)


class RevisionLost(Exception):
    """A revision could not be sent (the producer gave up): the worker must restart from its last commit."""


class Revisions:
    """Per-village chains of revision sends on the escalation topic."""

    def __init__(self, outbox: Outbox, topic: str) -> None:
        self.outbox = outbox
        self.topic = topic
        self._in_flight: dict[bytes, asyncio.Task[None]] = {}
        self._confirmed: set[bytes] = set()
        """Villages whose stored latest revision this process has seen acknowledged on the topic."""

    async def idle(self, village: bytes) -> None:
        """Wait until the village's revision in flight, if any, is acknowledged (raise if it failed)."""
        task = self._in_flight.get(village)
        if task is not None:
            try:
                await task
            except Exception as exc:
                raise RevisionLost(village.decode()) from exc

    def publish(
        self, village: bytes, body: bytes, severity: str, written: "asyncio.Future[None]", previous: bytes | None
    ) -> None:
        """Send a new revision once ``written`` (its state's changelog record) is acknowledged."""
        self._start(village, self._new(village, body, severity, written, previous))

    def replay(self, village: bytes, body: bytes) -> None:
        """Send a stored revision again, unchanged (its trigger was read again after a crash)."""
        self._start(village, self._again(village, body))

    def confirm(self, village: bytes, previous: bytes) -> None:
        """The village's incident closed without a new revision: make sure its last one is on the topic.

        After a restart the stored revision's trigger may have been killed before its send was
        acknowledged, and no later revision of that incident will ever carry it now (byte-identical,
        at most once per village and restart, as ``_new`` does)."""
        if village not in self._confirmed:
            self.replay(village, previous)

    async def settled(self) -> None:
        """Return once every revision started before the call is acknowledged; raise if one failed."""
        tasks = list(self._in_flight.values())
        if tasks:
            await asyncio.gather(*tasks)

    def in_flight(self) -> int:
        """Revisions started and not yet acknowledged (a failed one stays: see ``_finished``)."""
        return len(self._in_flight)

    def forget_confirmed(self) -> None:
        """After a rebalance another worker may have written these villages' revisions meanwhile."""
        self._confirmed.clear()

    def _start(self, village: bytes, work: Any) -> None:
        task = asyncio.ensure_future(work)
        self._in_flight[village] = task
        task.add_done_callback(lambda done: self._finished(village, done))

    def _finished(self, village: bytes, task: "asyncio.Task[None]") -> None:
        # a failed send stays in flight: the commit barrier and the village's next event raise it, so
        # no offset past its trigger is committed and the worker restarts from the last commit
        if self._in_flight.get(village) is task and not task.cancelled() and task.exception() is None:
            del self._in_flight[village]
        elif not task.cancelled() and task.exception() is not None:
            log.error("revision_send_failed", error=type(task.exception()).__name__)

    async def _send(self, village: bytes, body: bytes) -> None:
        await (await self.outbox.send(self.topic, village, body, urgent=True))

    async def _new(
        self, village: bytes, body: bytes, severity: str, written: "asyncio.Future[None]", previous: bytes | None
    ) -> None:
        if previous is not None and village not in self._confirmed:
            # the stored revision came from the changelog (a restart): its trigger may have been killed
            # before the acknowledgement, and replays of the three input topics do not keep their
            # cross-topic order, so this event can come before that trigger is read again. Send it
            # again (byte-identical, at most once per village and restart) first.
            await self._send(village, previous)
            metrics.REPLAYED.inc()
        await written  # the state that names this revision is durable first
        await self._send(village, body)
        self._confirmed.add(village)
        metrics.ESCALATIONS.labels(severity).inc()

    async def _again(self, village: bytes, body: bytes) -> None:
        await self._send(village, body)
        self._confirmed.add(village)
        metrics.REPLAYED.inc()
