"""Village states: a Faust table (changelog-backed, recovered on restart) behind a write-back cache.

The agent reads and changes a live ``VillageState`` per village; the table (and its changelog,
through the outbox) gets the state's JSON only when it must be durable: before an escalation that
names it is published, and before an offset commit (``write_dirty`` runs in the commit barrier,
see checkpoint.Checkpoint). So a village that gets a hundred events between two commits
costs one changelog record, not a hundred, and no JSON is parsed or dumped per event. A crash
loses nothing: offsets of events whose state was never written are not committed, and their
records are read again.
"""

import asyncio
from collections.abc import Callable
from typing import TypeVar

import faust

from services.triage.outbox import Outbox
from services.triage.state import VillageState

T = TypeVar("T")

LIVE_MAX = 20_000
"""Live states kept in memory beyond the table's bytes; clean ones are dropped past this many."""


class VillageTable(faust.Table[bytes, bytes]):
    """The village table: recovered from its changelog by Faust, written by ``Villages`` through the outbox."""

    def store(self, key: bytes, value: bytes) -> None:
        """Set the stored value (the changelog record is the outbox's; ``table[key] = value`` would send its own)."""
        self.data[key] = value


class Villages:
    """The live state of each village the agent touches, written back to the table when needed."""

    def __init__(self, table: VillageTable, outbox: Outbox) -> None:
        self.table = table
        self.outbox = outbox
        self.changelog = table.changelog_topic.get_topic_name()
        self._live: dict[bytes, VillageState] = {}
        self._dirty: dict[bytes, int] = {}
        """Villages changed since their last write, with the partition their records came from."""
        self._since_written: dict[bytes, list[Callable[[VillageState], object]]] = {}
        """The steps each live state took since it was last written (or loaded): ``change``'s rollback."""

    def get(self, key: bytes) -> VillageState:
        """The village's live state: the agent changes it in place, then calls ``changed``."""
        state = self._live.get(key)
        if state is None:
            if len(self._live) >= LIVE_MAX:
                self._drop_clean()
            state = self._live[key] = VillageState.load(self.table.get(key))
        return state

    def change(self, key: bytes, step: Callable[[VillageState], T]) -> T:
        """Run ``step`` on the village's live state, which it changes in place; all of it or nothing.

        If ``step`` raises (a bug, for an event that is then dead-lettered), the live state is put
        back as it was: half an event left in it would, for one, list the event's id as seen, and
        the event sent again once the bug is fixed would be dropped as a duplicate. It is put back
        by replay, not from a copy: the state as last written (the table's bytes) with the steps
        that succeeded since run again on it (steps are deterministic: ``decide`` and ``close``
        are functions of the state and the record). A copy per event was the state's JSON, 45 µs
        on the bench mix (13 KB states), for a rollback that almost never happens.
        """
        state = self.get(key)
        try:
            result = step(state)
        except Exception:
            self._live[key] = self._replayed(key)
            raise
        self._since_written.setdefault(key, []).append(step)
        return result

    def _replayed(self, key: bytes) -> VillageState:
        """The village's state as the steps since its last write left it, rebuilt from the table."""
        state = VillageState.load(self.table.get(key))
        for step in self._since_written.get(key, ()):
            step(state)
        return state

    def changed(self, key: bytes, partition: int) -> None:
        self._dirty[key] = partition

    async def write(self, key: bytes) -> "asyncio.Future[None]":
        """Write one changed village now (its escalation is about to be published); its acknowledgement."""
        return await self._write(key, self._dirty.pop(key), urgent=True)

    async def write_dirty(self) -> None:
        """Write every changed village (an offset commit is about to cover their events)."""
        dirty, self._dirty = self._dirty, {}
        for key, partition in dirty.items():
            await self._write(key, partition)

    async def _write(self, key: bytes, partition: int, urgent: bool = False) -> "asyncio.Future[None]":
        value = self._live[key].dump()
        self.table.store(key, value)
        self._since_written.pop(key, None)
        return await self.outbox.send(self.changelog, key, value, partition, urgent=urgent)

    async def forget(self) -> None:
        """Write what changed and drop the live states: after a rebalance they are read from the table."""
        await self.write_dirty()
        self._live.clear()
        self._since_written.clear()

    def _drop_clean(self) -> None:
        self._live = {key: state for key, state in self._live.items() if key in self._dirty}
        self._since_written = {key: steps for key, steps in self._since_written.items() if key in self._live}
