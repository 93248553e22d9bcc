"""Triage's own Kafka producer for the records a commit waits on: village states and revisions.

Faust's ``Topic.send`` path (a channel, a buffered ``FutureMessage``, a background flusher, then
aiokafka) cost more CPU per record than scoring the event (py-spy on ``make bench``'s mix, where
every event is a new village and a fifth escalate). These records need nothing Faust adds: their
partition is known or keyed, and the commit barrier waits for their acknowledgements itself. So
they go through a plain ``AIOKafkaProducer`` (acks=all, idempotent when the broker can).

Records are appended to one open record batch per partition (aiokafka's public ``create_batch``)
and handed over a batch at a time (``send_batch``): ``producer.send`` per record cost ~20 µs of CPU
against ~6 µs, and a future and a callback per record. Batches go out in the order they were
opened per partition, one flusher at a time, so a partition's records keep the order they were
handed over in.

**Linger.** An escalation's records (its state, then its revision) are ``urgent``: their batch
goes at once (at the end of the current step of the event loop, so the records of one step share
it) when nothing is in flight to its partition, and otherwise right behind the request in flight,
when that one is acknowledged. Every other record (the states a commit writes) waits up to
``LINGER_MS`` for company. Two 25 ms lingers in series had cost every escalation ~50 ms; sending
every batch at once instead (nothing in flight) cost 30-50 % more CPU per event in triage and twice
the broker's CPU on the embedded broker, whose cost is per request (``bench/cpu.py``, alternated).
"""

import asyncio
from dataclasses import dataclass, field

from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner

LINGER_MS = 25
"""How long a batch without urgent records waits for company. Against 5 ms: 0.57 against 0.69 ms CPU
per event on ``make bench``'s mix (two runs each, alternated); 50 and 100 ms gained nothing more."""


@dataclass
class _Batch:
    """An open record batch for one partition, and the future its records' senders wait on."""

    topic: str
    partition: int
    builder: object
    acknowledged: "asyncio.Future[None]" = field(default_factory=lambda: asyncio.get_running_loop().create_future())
    urgent: bool = False
    """Holds a record someone waits for now (an escalation's): it goes as soon as its partition is free."""


class Outbox:
    """Sends records in per-partition batches; ``acknowledged`` waits for every one sent before it."""

    def __init__(self, bootstrap: str, idempotent: bool) -> None:
        self._config = {"bootstrap_servers": bootstrap, "acks": "all", "enable_idempotence": idempotent}
        self._producer: AIOKafkaProducer | None = None
        self._started: asyncio.Task[None] | None = None
        self._open: dict[tuple[str, int], _Batch] = {}
        self._closed: list[_Batch] = []
        """Full batches waiting for the flusher, in the order they were opened."""
        self._unacknowledged: set[asyncio.Future[None]] = set()
        self._partitions: dict[str, list[int]] = {}
        self._partitioner = DefaultPartitioner()
        self._in_flight: dict[tuple[str, int], int] = {}
        """Batches handed over per partition and not yet acknowledged (or failed)."""
        self._scheduled: asyncio.Handle | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._flushing = asyncio.Lock()
        self._flushes: set[asyncio.Task[None]] = set()

    async def send(
        self, topic: str, key: bytes, value: bytes, partition: int | None = None, urgent: bool = False
    ) -> "asyncio.Future[None]":
        """Add one record; the returned future resolves on the broker's acknowledgement of its batch.

        Without ``partition`` the record goes where Kafka's default partitioner puts ``key``.
        ``urgent``: someone waits for this record now (module docstring, "Linger").
        """
        producer = await self._ready()
        if partition is None:
            partition = await self._partition_of(topic, key)
        batch = self._open.get((topic, partition))
        if batch is None:
            batch = self._open_batch(producer, topic, partition)
        if batch.builder.append(key=key, value=value, timestamp=None) is None:  # type: ignore[attr-defined]
            self._closed.append(self._open.pop((topic, partition)))  # full: it goes first
            batch = self._open_batch(producer, topic, partition)
            batch.builder.append(key=key, value=value, timestamp=None)  # type: ignore[attr-defined]
            self._flush_soon()
        if urgent:
            batch.urgent = True
            if not self._in_flight.get((topic, partition)):
                self._schedule()  # nothing in flight to this partition: no reason to wait
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(LINGER_MS / 1000, self._on_linger)
        return batch.acknowledged

    async def acknowledged(self) -> None:
        """Hand over every open batch now; return once all records sent before the call are acknowledged."""
        pending = list(self._unacknowledged)
        if pending:
            await self._flush()
            await asyncio.gather(*pending)

    async def stop(self) -> None:
        """Send what is open and close (after the last offset commit)."""
        if self._producer is not None and self._started is not None:
            await asyncio.shield(self._started)
            await self._flush()
            await self._producer.stop()

    async def _ready(self) -> AIOKafkaProducer:
        if self._producer is None or self._started is None:  # created in the worker's loop, on first use
            self._producer = AIOKafkaProducer(**self._config)
            self._started = asyncio.ensure_future(self._producer.start())
        if not self._started.done():
            await asyncio.shield(self._started)
        return self._producer

    async def _partition_of(self, topic: str, key: bytes) -> int:
        partitions = self._partitions.get(topic)
        if partitions is None:
            assert self._producer is not None
            partitions = self._partitions[topic] = sorted(await self._producer.partitions_for(topic))
        chosen: int = self._partitioner(key, partitions, partitions)
        return chosen

    def _open_batch(self, producer: AIOKafkaProducer, topic: str, partition: int) -> _Batch:
        batch = self._open[(topic, partition)] = _Batch(topic, partition, producer.create_batch())
        self._unacknowledged.add(batch.acknowledged)
        batch.acknowledged.add_done_callback(self._unacknowledged.discard)
        return batch

    def _schedule(self) -> None:
        """Flush at the end of this step of the event loop (once, however many records asked)."""
        if self._scheduled is None:
            self._scheduled = asyncio.get_running_loop().call_soon(self._on_schedule)

    def _on_schedule(self) -> None:
        self._scheduled = None
        self._flush_soon()

    def _on_linger(self) -> None:
        self._timer = None
        self._flush_soon()

    def _flush_soon(self) -> None:
        task = asyncio.ensure_future(self._flush())
        self._flushes.add(task)  # held until done: a task only the loop references can be collected
        task.add_done_callback(self._flushes.discard)

    async def _flush(self) -> None:
        """Hand every closed, then every open batch to the producer, one flusher at a time (order per partition)."""
        async with self._flushing:
            batches, self._closed = [*self._closed, *self._open.values()], []
            self._open = {}
            if self._scheduled is not None:
                self._scheduled.cancel()
                self._scheduled = None
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            for batch in batches:
                await self._hand_over(batch)

    async def _hand_over(self, batch: _Batch) -> None:
        assert self._producer is not None
        where = (batch.topic, batch.partition)
        self._in_flight[where] = self._in_flight.get(where, 0) + 1
        try:
            delivered = await self._producer.send_batch(batch.builder, batch.topic, partition=batch.partition)
        except Exception as exc:  # closed or timed out: whoever waits on these records must know
            self._landed(where)
            _settle(batch.acknowledged, exc)
            return

        def on_delivered(done: "asyncio.Future[object]") -> None:
            self._landed(where)
            _settle(batch.acknowledged, _failure(done))

        delivered.add_done_callback(on_delivered)

    def _landed(self, where: tuple[str, int]) -> None:
        """A batch to ``where`` is acknowledged (or failed): the one waiting behind it, if any, goes now."""
        left = self._in_flight[where] - 1
        if left:
            self._in_flight[where] = left
        else:
            del self._in_flight[where]
            waiting = self._open.get(where)
            if waiting is not None and waiting.urgent:
                self._schedule()


def _failure(done: "asyncio.Future[object]") -> BaseException | None:
    if done.cancelled():  # the producer was stopped with the batch unsent
        return RuntimeError("record batch cancelled before its acknowledgement")
    return done.exception()


def _settle(future: "asyncio.Future[None]", error: BaseException | None) -> None:
    if future.done():
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)
