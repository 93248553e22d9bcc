"""Notify's Kafka: the escalation consumer's loop, and the producer of dead letters and resolutions.

The consumer is one group across notify replicas, offsets committed only after the batch's
handler returned (every delivery it called for settled). The loop never dies of a dependency: a
batch that fails (Valkey or Kafka away) is replayed from its first offsets after a backoff (0.25 s
doubling up to 5 s); what counts as poison instead is the handler's business (``flows/consumer.py``).
On shutdown it stops fetching, finishes the batch in hand, commits and leaves the group. A commit that
fails or takes over 5 s (the group rebalanced meanwhile, its coordinator stalled or moved) is logged and
the loop goes on: the batch's deliveries are in the notification log, so whoever replays it from the last
committed offsets replays no-ops.
"""

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from aiokafka import AIOKafkaConsumer, ConsumerRecord
from aiokafka.errors import KafkaError
from redis.exceptions import RedisError

from schemas.outcomes import Resolution
from schemas.topics import Topics
from services.common.kafka import make_producer
from services.common.logs import get_logger
from services.notify.core.aio import sleep_unless

log = get_logger("waspada.notify.consumer")
GROUP = "waspada-notify"
FETCH_MAX_WAIT_MS = 20
"""How long the broker holds a fetch for more data: topic to webhook in tens of milliseconds."""
BACKOFF_S = (0.25, 5.0)
REQUEST_TIMEOUT_MS = 10_000
"""A request the broker does not answer is given up after 10 s, not aiokafka's 40 s: a stalled (SIGSTOPped)
coordinator otherwise held a commit, and every delivery behind it, for as long as the stall lasted (a 30 s stall
of one of three nodes stopped notify for 39 s while Kafka had moved the group to another node after 6 s).
It stays above the rebalance timeout (the session's 6 s), which a JoinGroup may legitimately wait."""
COMMIT_TIMEOUT_S = 5.0
"""How long a batch's commit may hold the loop. aiokafka retries a commit that timed out against the coordinator
it still believes in, so a stalled coordinator held it 3 x 10 s (the whole 30 s stall of the drill) although the
group had a new coordinator after ~10 s; the next batch's commit covers this one's offsets anyway."""
HandleBatch = Callable[[list[ConsumerRecord]], Awaitable[None]]


class EventLog:
    """The producers: dead letters (``waspada.deadletter.v1``) and resolutions (``waspada.outcomes.v1``),
    each returning once the broker acknowledged it.

    Resolutions get a producer of their own that is not idempotent: aiokafka's idempotent producer never
    gives up a batch it has sent (it retries until Kafka is back), so the officer's request would hang and
    the resolution land later although the API answered "nothing was changed". This one fails the send
    after its request timeout (10 s): a 503, and nothing changed. A retried duplicate is harmless (triage
    closes an incident once; tests/notify/test_resolution.py).
    """

    def __init__(self, bootstrap: str, *, idempotent: bool) -> None:
        self.producer = make_producer(bootstrap, idempotent=idempotent)
        self.resolutions = make_producer(bootstrap, idempotent=False)

    async def start(self) -> None:
        await self.producer.start()
        await self.resolutions.start()

    async def stop(self) -> None:
        """Bounded: a broker that is away must not hold the shutdown."""
        for producer in (self.producer, self.resolutions):
            with contextlib.suppress(Exception):
                await asyncio.wait_for(producer.stop(), 2.0)

    async def dead_letter(self, key: bytes, value: bytes) -> None:
        await self.producer.send_and_wait(Topics.DEADLETTER, key=key, value=value)

    async def resolution(self, resolution: Resolution) -> None:
        await self.resolutions.send_and_wait(
            Topics.OUTCOMES, key=resolution.desa_code.encode(), value=resolution.model_dump_json().encode()
        )


async def consume(bootstrap: str, handle: HandleBatch, stopping: asyncio.Event) -> None:
    """Consume escalations until ``stopping`` is set; then commit what was handled and leave the group."""
    consumer = AIOKafkaConsumer(
        Topics.ESCALATIONS,
        bootstrap_servers=bootstrap,
        group_id=GROUP,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=FETCH_MAX_WAIT_MS,
        session_timeout_ms=6000,
        heartbeat_interval_ms=1000,
        max_poll_interval_ms=900_000,
        request_timeout_ms=REQUEST_TIMEOUT_MS,
    )
    await consumer.start()
    backoff = BACKOFF_S[0]
    try:
        while not stopping.is_set():
            batches = await consumer.getmany(timeout_ms=200, max_records=100)
            messages = [m for part in batches.values() for m in part]
            if not messages:
                continue
            try:
                await handle(messages)
            except Exception as error:  # Valkey or Kafka away: replay the batch
                if isinstance(error, RedisError):
                    log.warning("notify.batch_failed", error=type(error).__name__, retry_in_s=backoff)
                else:
                    log.exception("notify.batch_failed", retry_in_s=backoff)
                await sleep_unless(stopping, backoff)
                backoff = min(BACKOFF_S[1], backoff * 2)
                assigned = consumer.assignment()
                for partition, part in batches.items():
                    # back to where this batch began (seek_to_committed would not move a partition the
                    # group never committed on: its failed batch would be skipped, i.e. lost)
                    if partition in assigned:
                        consumer.seek(partition, min(m.offset for m in part))
                continue
            try:
                await asyncio.wait_for(consumer.commit(), COMMIT_TIMEOUT_S)
            except (KafkaError, TimeoutError) as error:  # the batch is handled and logged: a replay is a no-op
                log.warning("notify.commit_failed", error=type(error).__name__)
            backoff = BACKOFF_S[0]
    finally:
        await consumer.stop()
