"""Triage's Faust consumer: how long its fetches wait at the broker, and which offsets it commits.

**Fetch wait.** Faust (faust-streaming 0.15.3) builds its consumer with ``fetch_max_wait_ms=1500``
hard-coded, and a fetch that finds nothing new waits that long at the broker: an event reaching a
caught-up worker waited up to 1.5 s before triage saw it (median 0.8 s of record → escalation in
``make bench``'s end-to-end run, while triage used an eighth of a core). Notify reads its topic with
20 ms for the same reason. Throughput is untouched: a fetch that finds records returns at once.

**No offset gaps.** Faust records a "gap" when a record arrives more than one offset past the read
offset, and later counts every offset in it as acknowledged. That is for offsets that do not exist
(compacted topics, transaction markers). Triage's input topics have neither: they are not compacted,
and no producer of the contract writes them in transactions (the embedded broker has none). Yet a
restart produced such gaps: the recovery's seek to the committed offsets resets the read offsets
while records fetched before the seek are still being handed out, so the next of those looks like a
jump (seen: committed 9, records 9 and 10 acknowledged, then record 18 recorded a gap 10–18). The
records inside the gap are real, are read again and acknowledged a second time, and Faust's commit
(the first run of consecutive offsets in a sorted list) then advanced one record per commit through
the doubled offsets: the restarted worker took up to 90 s to commit a backlog it had processed in 5.
Had a gap's records not been read again, their offsets would have been committed unprocessed. So
triage records no gaps: an offset is committed only once its record was processed. Were a real gap
ever to appear (a transactional producer upstream), that partition's commits would stop at it, which
the committed consumer-group lag and its ``WaspadaConsumerLagGrowing`` alert show, instead of
skipping records silently.
"""

from typing import Any

import faust
from aiokafka import AIOKafkaConsumer
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP, TransportT

FETCH_MAX_WAIT_MS = 20
"""An idle worker then asks the broker 50 times a second: about 1 % of a core."""


class _QuickFetchThread(faust_aiokafka.AIOKafkaConsumerThread):
    def _create_worker_consumer(self, transport: Any) -> AIOKafkaConsumer:
        consumer = super()._create_worker_consumer(transport)
        consumer._fetch_max_wait_ms = FETCH_MAX_WAIT_MS  # read by start(), which has not run yet
        return consumer


class TriageConsumer(faust_aiokafka.Consumer):
    """Faust's aiokafka consumer with a short fetch wait and no offset gaps (module docstring)."""

    def _new_consumer_thread(self) -> faust_aiokafka.AIOKafkaConsumerThread:
        return _QuickFetchThread(self, loop=self.loop, beacon=self.beacon)

    async def _add_gap(self, tp: TP, offset_from: int, offset_to: int) -> None:
        """Record nothing: on triage's input topics every offset is a record that will be processed."""


class TriageApp(faust.App):
    """A Faust app whose worker consumer is a ``TriageConsumer``."""

    def _new_transport(self) -> TransportT:
        transport = super()._new_transport()
        transport.Consumer = TriageConsumer  # type: ignore[misc]
        return transport
