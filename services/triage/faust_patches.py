"""Every use triage makes of a private name of faust-streaming, mode or aiokafka, in one module.

Each patch below was written against the versions in ``WRITTEN_FOR``; the import fails on any other
version, so an upgrade has to read each patch again (and drop the ones upstream made unnecessary)
before triage runs on it. Each names the upstream issue or pull request that would retire it, or
says that none is filed yet. The rest of triage uses Faust's public API only.

1. ``FastDrainConsumer._drain_messages``: a message is handed to the streams without the four
   asyncio tasks per message of mode's ``wait_first`` when the hand-over does not block
   (docs/upstream/faust-drain-fast-path.patch, the pull request as it would be sent).
2. ``_QuickFetchThread``: a 20 ms broker fetch wait instead of the 1.5 s Faust hard-codes.
3. ``TriageConsumer._add_gap``: no offset gaps recorded for the input topics.
4. ``TriageApp._new_transport``: how the two consumer classes above get into the app.
5. ``without_queue_clearing``: the agent's input queue is not emptied at the end of a recovery.
6. ``give_back``: a record held through a rebalance leaves Faust's books unacked.
7. ``committed_offset``: the consumer's last committed offset, for the lag metric.
8. ``wrap_highwaters`` and ``before_producer_flush``: instance methods of Faust's consumer and
   producer replaced (public names, but a replacement is a patch all the same).
"""

import asyncio
from collections.abc import Awaitable, Callable, Coroutine, Generator, Mapping
from importlib.metadata import version
from typing import Any

import faust
from aiokafka import AIOKafkaConsumer
from faust.transport.consumer import CONSUMER_FETCHING
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP, TransportT

WRITTEN_FOR = {"faust-streaming": "0.15.3", "mode-streaming": "0.7.1", "aiokafka": "0.14.0"}


def _check_versions() -> None:
    found = {name: version(name) for name in WRITTEN_FOR}
    if found != WRITTEN_FOR:
        raise RuntimeError(f"services/triage/faust_patches.py was written for {WRITTEN_FOR}, found {found}")


_check_versions()

FETCH_MAX_WAIT_MS = 20
"""An idle worker then asks the broker 50 times a second: about 1 % of a core.

Faust (0.15.3) builds its consumer with ``fetch_max_wait_ms=1500`` hard-coded, and a fetch that
finds nothing new waits that long at the broker: an event reaching a caught-up worker waited up to
1.5 s before triage saw it. Upstream: no issue filed yet (a ``consumer_fetch_max_wait_ms`` setting
next to ``consumer_max_fetch_size`` would retire ``_QuickFetchThread``)."""


# -- 1. the per-message fast path ------------------------------------------------------------------


class _Resumed:
    """The rest of a coroutine whose first step already ran: awaitable, so ``wait_first`` can race it.

    Drives ``coro`` on from the future it yielded, exactly as the task awaiting this does
    (results sent in, exceptions and cancellation thrown in), and returns its result.
    """

    __slots__ = ("coro", "yielded")

    def __init__(self, coro: Coroutine[Any, Any, Any], yielded: Any) -> None:
        self.coro, self.yielded = coro, yielded

    def __await__(self) -> Generator[Any, Any, Any]:
        coro, pending = self.coro, self.yielded
        while True:
            try:
                sent = yield pending
            except BaseException as exc:  # cancellation included: the coroutine decides what to do
                try:
                    pending = coro.throw(exc)
                except StopIteration as stop:
                    return stop.value
            else:
                try:
                    pending = coro.send(sent)
                except StopIteration as stop:
                    return stop.value


def first_step(coro: Coroutine[Any, Any, Any]) -> _Resumed | None:
    """Run ``coro`` up to its first suspension; None when it finished without one (raises what it raised)."""
    try:
        yielded = coro.send(None)
    except StopIteration:
        return None
    return _Resumed(coro, yielded)


async def deliver(callback: Callable[[Any], Awaitable[Any]], message: Any, consumer: Any) -> None:
    """Hand ``message`` to the streams; race the hand-over against a flow stop only if it blocks.

    Stock Faust always races ``callback(message)`` against ``suspend_flow`` through mode's
    ``wait_first``: four tasks (the callback, the flow event, the consumer's stopped and crashed
    events) and an ``asyncio.wait`` per message, ~40 µs of CPU. The callback only suspends when a
    stream's buffer is full; otherwise it is done in its first step, and nothing needs racing.
    """
    work = callback(message)
    if consumer.suspend_flow.is_set() or not isinstance(work, Coroutine):  # a rebalance: the stock path
        await consumer.wait_first(work, consumer.suspend_flow.wait())
        return
    rest = first_step(work)
    if rest is not None:  # a full buffer: race the rest of it as stock Faust does
        await consumer.wait_first(rest, consumer.suspend_flow.wait())


class FastDrainConsumer(faust_aiokafka.Consumer):
    """Faust's aiokafka consumer whose fetcher loop hands messages over through ``deliver``."""

    async def _drain_messages(self, fetcher: Any) -> None:  # pragma: no cover  (Faust's loop, one line changed)
        """faust-streaming 0.15.3's ``Consumer._drain_messages``, with ``deliver`` for ``wait_first``."""
        callback = self.callback
        getmany = self.getmany
        consumer_should_stop = self._stopped.is_set
        fetcher_should_stop = fetcher._stopped.is_set
        get_read_offset = self._read_offset.__getitem__
        set_read_offset = self._read_offset.__setitem__
        set_flag, unset_flag = self.diag.set_flag, self.diag.unset_flag
        commit_every = self._commit_every
        acks_enabled_for = self.app.topics.acks_enabled_for
        yield_every, num_since_yield = 100, 0
        try:
            while not (consumer_should_stop() or fetcher_should_stop()):
                set_flag(CONSUMER_FETCHING)
                ait = getmany(timeout=1.0)
                await self.sleep(0)
                if not self.should_stop:
                    async for tp, message in ait:
                        num_since_yield += 1
                        if num_since_yield > yield_every:
                            await asyncio.sleep(0)
                            num_since_yield = 0
                        offset = message.offset
                        r_offset = get_read_offset(tp)
                        if r_offset is None or offset >= r_offset:
                            gap = offset - (r_offset or 0)
                            if gap > 1 and r_offset and acks_enabled_for(message.topic):
                                await self._add_gap(tp, r_offset + 1, offset)
                            if commit_every is not None and self._n_acked >= commit_every:
                                self._n_acked = 0
                                await self.commit()
                            await deliver(callback, message, self)
                            set_read_offset(tp, offset)
                    unset_flag(CONSUMER_FETCHING)
        except self.consumer_stopped_errors:
            if self.transport.app.should_stop:
                self.log.info("Broker stopped consumer, shutting down...")
                return
            raise
        except asyncio.CancelledError:
            if self.transport.app.should_stop:
                self.log.info("Consumer shutting down for user cancel.")
                return
            raise
        except Exception as exc:
            self.log.exception("Drain messages raised: %r", exc)
            raise
        finally:
            unset_flag(CONSUMER_FETCHING)


# -- 2. fetch wait, 3. no gaps, 4. the consumer class ----------------------------------------------


class _QuickFetchThread(faust_aiokafka.AIOKafkaConsumerThread):
    def _create_worker_consumer(self, transport: Any) -> AIOKafkaConsumer:
        consumer = super()._create_worker_consumer(transport)
        consumer._fetch_max_wait_ms = FETCH_MAX_WAIT_MS  # read by start(), which has not run yet
        return consumer


class TriageConsumer(FastDrainConsumer):
    """The fast path, a short fetch wait, and no offset gaps on the input topics.

    **No offset gaps.** Faust records a "gap" when a record arrives more than one offset past the
    read offset, and later counts every offset in it as acknowledged: for offsets that do not exist
    (compacted topics, transaction markers). Triage's input topics have neither. Yet a restart
    produced such gaps: the recovery's seek to the committed offsets resets the read offsets while
    records fetched before the seek are still handed out, so the next of those looks like a jump
    (committed 9, records 9 and 10 acked, then record 18 recorded a gap 10–18). The records inside
    were read again and acked twice, and Faust's commit then advanced one record per commit through
    the doubled offsets (90 s to commit a backlog processed in 5). So triage records no gaps: a
    real one (a transactional producer upstream) would stop that partition's commits, which the
    ``WaspadaConsumerLagGrowing`` alert shows, rather than skip records silently. Upstream:
    faust-streaming/faust#596 (the recovery race that leaves gaps, open) and #606 (wrong commit
    with gaps, open).
    """

    def _new_consumer_thread(self) -> faust_aiokafka.AIOKafkaConsumerThread:
        return _QuickFetchThread(self, loop=self.loop, beacon=self.beacon)

    async def _add_gap(self, tp: TP, offset_from: int, offset_to: int) -> None:
        """Record nothing: on triage's input topics every offset is a record that will be processed."""


class BareFastConsumer(FastDrainConsumer):
    """Only the fast path: the bare agent's "after" in the per-event CPU comparison."""


def app_with_consumer(consumer: type[faust_aiokafka.Consumer]) -> type[faust.App]:
    """A ``faust.App`` class whose worker consumer is ``consumer`` (Faust has no setting for it)."""

    class PatchedApp(faust.App):
        def _new_transport(self) -> TransportT:
            transport = super()._new_transport()
            transport.Consumer = consumer  # type: ignore[misc]
            return transport

    return PatchedApp


TriageApp = app_with_consumer(TriageConsumer)


# -- 5.–8. recovery, give-back, lag, barrier ---------------------------------------------------------


def without_queue_clearing(app: faust.App, stream: Any) -> None:
    """Keep ``stream``'s input queue out of those Faust empties when the flow resumes after a recovery.

    Faust clears every stream queue then, assuming the seek to the committed offsets brings the
    records back; aiokafka seeks no partition without a committed offset, and re-read records
    below the read offset are dropped. Upstream: faust-streaming/faust#596 (open).
    """
    queues = getattr(app.flow_control, "_queues", None)
    if queues is not None:
        queues.discard(stream.channel.queue)


def give_back(app: faust.App, message: Any) -> None:
    """Leave a record uncommitted and out of Faust's books, exactly like one its stream skipped.

    Marked acked first, so the stream's ack at the end of this step changes nothing (its offset is
    never counted as done); then dropped from the consumer's unacked set, which the revocation
    waits on. Upstream: none filed (a ``Message.release()`` would be the public form).
    """
    message.acked = True
    app.consumer.unacked.discard(message)


def committed_offset(consumer: Any, tp: Any) -> int | None:
    """The offset this consumer last committed for ``tp`` (None before its first commit or read)."""
    value = getattr(consumer, "_committed_offset", {}).get(tp)
    return int(value) if value is not None else None


def wrap_highwaters(
    app: faust.App, correct: Callable[[Mapping[Any, int | None]], Awaitable[Mapping[Any, int | None]]]
) -> None:
    """Pass the end offsets Faust's table recovery reads through ``correct`` (recovery.py, point 1)."""
    consumer = app.consumer
    listed = consumer.highwaters

    async def highwaters(*partitions: Any) -> Mapping[Any, int | None]:
        return await correct(await listed(*partitions))

    setattr(consumer, "highwaters", highwaters)  # noqa: B010  (mypy: no assignment to a method)


Flush = Callable[[], Awaitable[None]]


def around_producer_flush(app: faust.App, barrier: Callable[[Flush], Awaitable[None]]) -> None:
    """Make Faust's producer flush ``barrier(flush)``: it runs before an offset commit and a revocation.

    The commit takes its offsets before this flush, so a barrier here covers exactly the events of
    the offsets about to be written. Upstream: none filed (an ``on_before_commit`` hook would do).
    """
    producer = app.producer
    flush = producer.flush

    async def flush_with_barrier() -> None:
        await barrier(flush)

    setattr(producer, "flush", flush_with_barrier)  # noqa: B010  (mypy: no assignment to a method)
