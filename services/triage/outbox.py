"""Triage's own Kafka producer for the records a commit waits on: village states and revisions.

Faust's ``Topic.send`` path (a channel, a buffered ``FutureMessage``, a background flusher, then
aiokafka) cost more CPU per record than scoring the event (py-spy on ``make bench``'s mix, where
every event is a new village and a fifth escalate). These records need nothing Faust adds: their
partition is known or keyed, and the commit barrier waits for their acknowledgements itself. So
they go through a plain ``AIOKafkaProducer`` (acks=all, idempotent when the broker can), in the
order they are handed over per partition, which aiokafka keeps.
"""

import asyncio

from aiokafka import AIOKafkaProducer

LINGER_MS = 25
"""Records of a few milliseconds share one produce request: the sender's per-request encoding was the
largest part of the cost left. 25 ms against 5: 0.57 against 0.69 ms CPU per event on ``make bench``'s
mix (two runs each, alternated); 50 and 100 ms gained nothing more. A revision waits at most this
long for company, twice (its state's changelog record, then itself): ~50 ms on an escalation."""


class Outbox:
    """Sends records and remembers the unacknowledged ones until ``acknowledged`` is awaited."""

    def __init__(self, bootstrap: str, idempotent: bool) -> None:
        self._config = {
            "bootstrap_servers": bootstrap,
            "acks": "all",
            "enable_idempotence": idempotent,
            "linger_ms": LINGER_MS,
        }
        self._producer: AIOKafkaProducer | None = None
        self._started: asyncio.Task[None] | None = None
        self._unacknowledged: set[asyncio.Future[object]] = set()

    async def send(
        self, topic: str, key: bytes, value: bytes, partition: int | None = None
    ) -> "asyncio.Future[object]":
        """Hand one record to the producer; the returned future resolves on the broker's acknowledgement."""
        if self._producer is None or self._started is None:  # created in the worker's loop, on first use
            self._producer = AIOKafkaProducer(**self._config)
            self._started = asyncio.ensure_future(self._producer.start())
        if not self._started.done():
            await asyncio.shield(self._started)
        future: asyncio.Future[object] = await self._producer.send(topic, value=value, key=key, partition=partition)
        self._unacknowledged.add(future)
        future.add_done_callback(self._unacknowledged.discard)
        return future

    async def acknowledged(self) -> None:
        """Return once every record sent before the call is acknowledged; raise if one failed."""
        pending = list(self._unacknowledged)
        if pending:
            await asyncio.gather(*pending)

    async def stop(self) -> None:
        """Send what is buffered and close (after the last offset commit)."""
        if self._producer is not None and self._started is not None:
            await asyncio.shield(self._started)
            await self._producer.stop()
