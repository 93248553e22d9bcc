"""Sending records to Kafka with a deadline, and knowing whether Kafka is there at all.

A record counts as taken only once Kafka acknowledged it (acks=all). When the deadline passes
first, the record is still inside the producer and may yet be written: its future is kept and
``on_late`` learns how it ended, so the idempotency claim is turned into a published record
(the client's retry then answers ``duplicate``) or released (the retry is published). The
futures are awaited with ``asyncio.wait``, never ``wait_for``, which would cancel them.
"""

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner

from services.common.envelope import Envelope
from services.common.logs import get_logger

log = get_logger("waspada.ingest")

LateOutcome = Callable[[list[str], list[str]], None]
"""Called with (acknowledged ids, failed ids) once every record that outlived its deadline resolved."""


@dataclass
class Sent:
    """How a send ended by its deadline: acknowledged, failed (not written), or still pending."""

    acked: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    pending: dict["asyncio.Future[object]", str] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return not self.failed and not self.pending


class KafkaGate:
    """The producer, its readiness, and what to do with records that outlive their request."""

    def __init__(self, producer: AIOKafkaProducer) -> None:
        self.producer = producer
        self.ready = True
        self._partitions: dict[tuple[str, bytes, int], int] = {}

    async def send(self, envelopes: Sequence[Envelope], deadline: float, on_late: LateOutcome) -> Sent:
        """Hand every record to the producer, then wait for all acknowledgements until ``deadline``."""
        sent, futures, last = Sent(), {}, {}
        try:
            async with asyncio.timeout_at(deadline):
                for item in envelopes:
                    partition = self._partition(item)
                    future = await self._enqueue(item, partition)
                    futures[future] = item.event_id
                    last[(item.topic, partition if partition is not None else id(future))] = future
        except Exception as exc:  # the records not yet enqueued were certainly not written
            self._down(exc)
            enqueued = set(futures.values())
            sent.failed.extend(item.event_id for item in envelopes if item.event_id not in enqueued)
        await self._wait(list(last.values()), list(futures), deadline)
        for future, event_id in futures.items():
            self._sort(sent, future, event_id)
        if sent.pending:
            self._down(TimeoutError("no acknowledgement before the deadline"))
            self._watch(sent.pending, on_late)
        return sent

    async def _enqueue(self, item: Envelope, partition: int | None) -> "asyncio.Future[object]":
        future: asyncio.Future[object] = await self.producer.send(
            item.topic, value=item.value, key=item.key, headers=item.headers, partition=partition
        )
        return future

    def _partition(self, item: Envelope) -> int | None:
        """The default partitioner's choice (murmur2 of the key), remembered per village: the pure-Python
        murmur2 costs more than the rest of a send. None (aiokafka decides) until metadata is known."""
        partitions = self.producer.client.cluster.partitions_for_topic(item.topic)
        if not partitions:
            return None
        cache_key = (item.topic, item.key, len(partitions))
        chosen = self._partitions.get(cache_key)
        if chosen is None:
            chosen = self._partitions[cache_key] = int(DefaultPartitioner()(item.key, sorted(partitions), []))
        return chosen

    @staticmethod
    async def _wait(
        lasts: list["asyncio.Future[object]"], futures: list["asyncio.Future[object]"], deadline: float
    ) -> None:
        """Wait until every future is done or the deadline passed.

        A partition's records are acknowledged in order, so the last future of each partition is
        awaited first (a handful of callbacks instead of one per record), then any stragglers.
        """
        loop = asyncio.get_running_loop()
        for group in (lasts, futures):
            pending = [f for f in group if not f.done()]
            if pending and loop.time() < deadline:
                await asyncio.wait(pending, timeout=deadline - loop.time())

    @staticmethod
    def _sort(sent: Sent, future: "asyncio.Future[object]", event_id: str) -> None:
        if not future.done():
            sent.pending[future] = event_id
        elif future.cancelled() or future.exception() is not None:
            sent.failed.append(event_id)
        else:
            sent.acked.append(event_id)

    def _watch(self, pending: dict["asyncio.Future[object]", str], on_late: LateOutcome) -> None:
        """Tell ``on_late`` how each pending record ended, once all of them did."""

        def resolved(_: "asyncio.Future[list[object]]") -> None:
            late = Sent()
            for future, event_id in pending.items():
                self._sort(late, future, event_id)
            on_late(late.acked, late.failed)

        gathered = asyncio.gather(*pending, return_exceptions=True)
        gathered.add_done_callback(resolved)

    def _down(self, exc: BaseException) -> None:
        if self.ready:
            log.warning("ingest.kafka_unavailable", error=type(exc).__name__)
        self.ready = False

    async def probe(self, timeout: float) -> bool:
        """Ask the brokers for metadata; Kafka counts as ready again only when they answer in time."""
        try:
            await asyncio.wait_for(self.producer.client.fetch_all_metadata(), timeout)
        except Exception as exc:
            self._down(exc)
            return False
        if not self.ready:
            log.info("ingest.kafka_available")
        self.ready = True
        return True
