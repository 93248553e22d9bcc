"""Village states: a Faust table (changelog-backed, recovered on restart) behind a write-back cache.

The agent reads and changes a live ``VillageState`` per village; the table gets the state's JSON
only when it must be durable: before an escalation that names it is published, and before an
offset commit (``write_dirty`` runs in the commit barrier, see app.commit_after_changelog). So a
village that gets a hundred events between two commits costs one changelog record, not a hundred,
and no JSON is parsed or dumped per event. A crash loses nothing: offsets of events whose state
was never written are not committed, and their records are read again.
"""

import asyncio
from typing import Any

import faust
from faust.types.tuples import FutureMessage

from services.triage.state import VillageState

LIVE_MAX = 20_000
"""Live states kept in memory beyond the table's bytes; clean ones are dropped past this many."""


class VillageTable(faust.Table[bytes, bytes]):
    """The village table, keeping hold of its changelog records until the broker acknowledges them."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._unacknowledged: set[FutureMessage] = set()

    def write(self, key: bytes, value: bytes, partition: int) -> FutureMessage:
        """Store ``value`` and send it to the changelog partition of its source records.

        ``table[key] = value`` does the same but only inside the agent's current event (it reads the
        partition from it); the cache writes from the commit barrier too, so it names the partition.
        """
        self.data[key] = value
        fut = self.send_changelog(partition, key, value)
        self._unacknowledged.add(fut)
        fut.add_done_callback(self._unacknowledged.discard)
        return fut

    async def acknowledged(self) -> None:
        """Return once every changelog record written before the call is acknowledged; raise if one failed."""
        pending = list(self._unacknowledged)
        if pending:
            await asyncio.gather(*pending)


class Villages:
    """The live state of each village the agent touches, written back to the table when needed."""

    def __init__(self, table: VillageTable) -> None:
        self.table = table
        self._live: dict[bytes, VillageState] = {}
        self._dirty: dict[bytes, int] = {}
        """Villages changed since their last write, with the partition their records came from."""

    def get(self, key: bytes) -> VillageState:
        """The village's live state: the agent changes it in place, then calls ``changed``."""
        state = self._live.get(key)
        if state is None:
            if len(self._live) >= LIVE_MAX:
                self._drop_clean()
            state = self._live[key] = VillageState.load(self.table.get(key))
        return state

    def changed(self, key: bytes, partition: int) -> None:
        self._dirty[key] = partition

    def write(self, key: bytes) -> FutureMessage:
        """Write one changed village now (its escalation is about to be published)."""
        return self.table.write(key, self._live[key].dump(), self._dirty.pop(key))

    def write_dirty(self) -> None:
        """Write every changed village (an offset commit is about to cover their events)."""
        for key in list(self._dirty):
            self.write(key)

    def forget(self) -> None:
        """Write what changed and drop the live states: after a rebalance they are read from the table."""
        self.write_dirty()
        self._live.clear()

    def _drop_clean(self) -> None:
        self._live = {key: state for key, state in self._live.items() if key in self._dirty}
