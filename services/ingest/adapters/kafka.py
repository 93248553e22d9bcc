"""Sending records to Kafka with a deadline, and knowing whether Kafka is there at all.

A record counts as taken only once Kafka acknowledged it (acks=all). When the deadline passes
first, the record is still inside the producer and may yet be written: its future is kept and
``on_late`` learns how it ended, so the idempotency claim is turned into a published record
(the client's retry then answers ``duplicate``) or released (the retry is published). The
futures are awaited with ``asyncio.wait``, never ``wait_for``, which would cancel them.
"""

import asyncio
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaTimeoutError
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.structs import TopicPartition

from services.common.envelope import Envelope
from services.common.logs import get_logger

log = get_logger("waspada.ingest")

Futures = dict["asyncio.Future[object]", list[str]]
"""A batch's future → the event ids of its records."""
LateOutcome = Callable[[list[str], list[str]], None]
"""Called with (acknowledged ids, failed ids) once every record that outlived its deadline resolved."""


@dataclass
class Sent:
    """How a send ended by its deadline: acknowledged, failed (not written), or still pending."""

    acked: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    pending: "Futures" = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return not self.failed and not self.pending


MIN_BATCH = 16
"""Fewer records than this for one partition are sent one by one (see ``KafkaGate._enqueue``)."""
SMALL_RECORD = 64 * 1024
"""A record up to this size cannot be past the producer's ``max_request_size`` (1 MiB): no size check."""
ALARM_STEP_S = 0.01
"""Deadlines are rung in steps of this: one timer for all requests whose deadline falls in a step."""


class Alarm:
    """Wakes waiters at their deadlines, one event-loop timer per ``ALARM_STEP_S`` of deadlines.

    A timer per request (``asyncio.wait``'s timeout, ``asyncio.timeout_at``) costs more CPU than
    the rest of a request's way to Kafka; under load dozens of requests share a step. A waiter
    wakes at most one step late.
    """

    def __init__(self) -> None:
        self._steps: dict[int, list[asyncio.Future[None]]] = {}

    def at(self, deadline: float, waiter: "asyncio.Future[None]") -> None:
        """Resolve ``waiter`` (unless already done) once the loop's clock passes ``deadline``."""
        step = math.ceil(deadline / ALARM_STEP_S)
        waiters = self._steps.get(step)
        if waiters is None:
            waiters = self._steps[step] = []
            asyncio.get_running_loop().call_at(step * ALARM_STEP_S, self._ring, step)
        waiters.append(waiter)

    def _ring(self, step: int) -> None:
        for waiter in self._steps.pop(step, ()):
            if not waiter.done():
                waiter.set_result(None)


class KafkaGate:
    """The producer, its readiness, and what to do with records that outlive their request."""

    def __init__(self, producer: AIOKafkaProducer) -> None:
        self.producer = producer
        self.ready = True
        self._partitions: dict[tuple[str, bytes, int], int] = {}
        self._alarm = Alarm()

    async def send(self, envelopes: Sequence[Envelope], deadline: float, on_late: LateOutcome) -> Sent:
        """Hand every record to the producer, then wait for all acknowledgements until ``deadline``."""
        sent = Sent()
        futures: Futures = {}
        try:
            groups = self._by_partition(envelopes)
            if all(self._direct(partition, items) for (_, partition), items in groups.items()):
                for (topic, partition), items in groups.items():  # the usual single request: no timer
                    await self._append(TopicPartition(topic, partition), items, deadline, futures)
            else:
                async with asyncio.timeout_at(deadline):
                    for (topic, partition), items in groups.items():
                        await self._enqueue(topic, partition, items, futures)
        except Exception as exc:  # the records not yet enqueued were certainly not written
            self._down(exc)
            enqueued = {event_id for ids in futures.values() for event_id in ids}
            sent.failed.extend(item.event_id for item in envelopes if item.event_id not in enqueued)
        await self._wait(list(futures), deadline)
        for future, event_ids in futures.items():
            self._sort(sent, future, event_ids)
        if sent.pending:
            self._down(TimeoutError("no acknowledgement before the deadline"))
            self._watch(sent.pending, on_late)
        return sent

    def _by_partition(self, envelopes: Sequence[Envelope]) -> dict[tuple[str, int | None], list[Envelope]]:
        groups: dict[tuple[str, int | None], list[Envelope]] = {}
        for item in envelopes:
            groups.setdefault((item.topic, self._partition(item)), []).append(item)
        return groups

    @staticmethod
    def _direct(partition: int | None, items: list[Envelope]) -> bool:
        """Records ``_append`` may hand to the producer's accumulator itself: a few small ones of a known partition."""
        return partition is not None and len(items) < MIN_BATCH and all(len(i.value) <= SMALL_RECORD for i in items)

    async def _append(self, tp: TopicPartition, items: list[Envelope], deadline: float, futures: Futures) -> None:
        """What ``producer.send`` does once the partition is known and the record is small (no serializers
        are configured): append to the partition's open batch, waiting at most until ``deadline`` when it
        is full (then KafkaTimeoutError). Without ``timeout_at``, whose timer costs more than the append."""
        accumulator = self.producer._message_accumulator
        loop = asyncio.get_running_loop()
        for item in items:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise KafkaTimeoutError()
            future = await accumulator.add_message(tp, item.key, item.value, remaining, headers=item.headers)
            futures[future] = [item.event_id]

    async def _enqueue(self, topic: str, partition: int | None, items: list[Envelope], futures: Futures) -> None:
        """One partition's records as whole batches (``send_batch``): a per-record ``send`` costs a
        future, a lookup and a lock each, more than the rest of the record's way to Kafka.
        A few records (a single request) and records whose partition is not known yet (no metadata)
        go one by one instead: ``send_batch`` waits until the partition's previous batch is drained,
        so concurrent single requests would queue behind each other's linger."""
        if partition is None or len(items) < MIN_BATCH:
            for item in items:
                future = await self.producer.send(
                    topic, value=item.value, key=item.key, partition=partition, headers=item.headers
                )
                futures[future] = [item.event_id]
            return
        builder, ids = self.producer.create_batch(), list[str]()
        for item in items:
            if builder.append(key=item.key, value=item.value, timestamp=None, headers=item.headers) is None:
                futures[await self.producer.send_batch(builder, topic, partition=partition)] = ids
                builder, ids = self.producer.create_batch(), []
                if builder.append(key=item.key, value=item.value, timestamp=None, headers=item.headers) is None:
                    raise ValueError("record larger than the producer's max_batch_size")
            ids.append(item.event_id)
        if ids:
            futures[await self.producer.send_batch(builder, topic, partition=partition)] = ids

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

    async def _wait(self, futures: list["asyncio.Future[object]"], deadline: float) -> None:
        """Wait until every future is done or the deadline passed (one future per batch: few)."""
        loop = asyncio.get_running_loop()
        pending = [f for f in futures if not f.done()]
        if not pending or loop.time() >= deadline:
            return
        waiter: asyncio.Future[None] = loop.create_future()
        left = len(pending)

        def one_done(_: "asyncio.Future[object]") -> None:
            nonlocal left
            left -= 1
            if left == 0 and not waiter.done():
                waiter.set_result(None)

        for future in pending:
            future.add_done_callback(one_done)
        self._alarm.at(deadline, waiter)
        try:
            await waiter
        finally:
            for future in pending:
                future.remove_done_callback(one_done)

    @staticmethod
    def _sort(sent: Sent, future: "asyncio.Future[object]", event_ids: list[str]) -> None:
        if not future.done():
            sent.pending[future] = event_ids
        elif future.cancelled() or future.exception() is not None:
            sent.failed.extend(event_ids)
        else:
            sent.acked.extend(event_ids)

    def _watch(self, pending: Futures, on_late: LateOutcome) -> None:
        """Tell ``on_late`` how each pending record ended, once all of them did."""

        def resolved(_: "asyncio.Future[list[object]]") -> None:
            late = Sent()
            for future, event_ids in pending.items():
                self._sort(late, future, event_ids)
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
