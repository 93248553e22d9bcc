"""How long triage's input fetches may wait at the broker.

Faust (faust-streaming 0.15.3) builds its consumer with ``fetch_max_wait_ms=1500`` hard-coded, and
a fetch that finds nothing new waits that long at the broker: an event reaching a caught-up worker
waited up to 1.5 s before triage saw it (median 0.8 s of record → escalation in ``make bench``'s
end-to-end run, while triage used an eighth of a core). Notify reads its topic with 20 ms for the
same reason. Throughput is untouched: a fetch that finds records returns at once.
"""

from typing import Any

import faust
from aiokafka import AIOKafkaConsumer
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TransportT

FETCH_MAX_WAIT_MS = 20
"""An idle worker then asks the broker 50 times a second: about 1 % of a core."""


class _QuickFetchThread(faust_aiokafka.AIOKafkaConsumerThread):
    def _create_worker_consumer(self, transport: Any) -> AIOKafkaConsumer:
        consumer = super()._create_worker_consumer(transport)
        consumer._fetch_max_wait_ms = FETCH_MAX_WAIT_MS  # read by start(), which has not run yet
        return consumer


class _QuickFetchConsumer(faust_aiokafka.Consumer):
    def _new_consumer_thread(self) -> faust_aiokafka.AIOKafkaConsumerThread:
        return _QuickFetchThread(self, loop=self.loop, beacon=self.beacon)


class TriageApp(faust.App):
    """A Faust app whose worker consumer fetches with ``FETCH_MAX_WAIT_MS``."""

    def _new_transport(self) -> TransportT:
        transport = super()._new_transport()
        transport.Consumer = _QuickFetchConsumer  # type: ignore[misc]
        return transport
