"""Table recovery after a restart or rebalance: what Faust and the embedded broker get wrong, mended.

Three things, each found by SIGKILL drills (tests/triage/test_crash.py):

1. The end of a changelog partition. Faust recovers a table up to the partition's end offset as
   ListOffsets reports it; Tansu reports the base offset of the last record batch plus one, so
   the records after the first of the last batch were never recovered (a state missing its last
   acknowledged writes, and then a revision number reused with different content). The end is
   taken from a fetch response's high watermark instead, which Tansu reports right; on Kafka both
   agree.
2. Input fetched before a recovery is dropped by Faust (``keep_queue_through_recovery``).
3. Input read while the table recovers would meet a partial state (``until_recovered``).

The Faust internals these need are in ``faust_patches`` (``wrap_highwaters``,
``without_queue_clearing``, ``give_back``).
"""

import asyncio
from collections.abc import Mapping
from typing import Any

import faust
from aiokafka import AIOKafkaConsumer, TopicPartition

from services.common.logs import get_logger
from services.triage.faust_patches import give_back, without_queue_clearing, wrap_highwaters

log = get_logger(__name__)
FETCH_TIMEOUT_MS = 2000


async def fetched_ends(bootstrap: str, reported: Mapping[Any, int | None]) -> dict[Any, int | None]:
    """The end offset of each partition as a fetch of its last reported record sees it (never lower)."""
    ends = dict(reported)
    wanted = {tp: end for tp, end in reported.items() if end}
    if not wanted:
        return ends
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, fetch_max_wait_ms=50)
    await consumer.start()
    try:
        partitions = {tp: TopicPartition(tp.topic, tp.partition) for tp in wanted}
        consumer.assign(list(partitions.values()))
        for tp, end in wanted.items():
            consumer.seek(partitions[tp], end - 1)
        missing = set(wanted)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + FETCH_TIMEOUT_MS / 1000
        while missing and loop.time() < deadline:
            await consumer.getmany(*[partitions[tp] for tp in missing], timeout_ms=200)
            for tp in list(missing):
                high = consumer.highwater(partitions[tp])
                if high is not None:
                    ends[tp] = max(wanted[tp], high)
                    missing.discard(tp)
    finally:
        await consumer.stop()
    for tp, end in ends.items():
        if wanted.get(tp) is not None and end != wanted[tp]:
            log.info("changelog_end_corrected", topic=tp.topic, partition=tp.partition, listed=wanted[tp], fetched=end)
    return ends


def read_changelog_to_its_end(app: faust.App, bootstrap: str) -> None:
    """Make table recovery read each changelog partition to the end a fetch sees (point 1 above)."""

    async def corrected(listed: Mapping[Any, int | None]) -> Mapping[Any, int | None]:
        return await fetched_ends(bootstrap, listed)

    wrap_highwaters(app, corrected)


def keep_queue_through_recovery(app: faust.App, stream: Any) -> None:
    """Stop Faust from emptying the agent's input queue when it resumes after a table recovery.

    A restarted worker gets input records fetched before its recovery; Faust hands them to the
    agent during the recovery and, at its end, clears the stream queues assuming a seek to the
    committed offsets brings them back. It does not: aiokafka seeks no partition without a
    committed offset, and Faust drops re-read records below its read offset and counts the gap as
    acknowledged, so about one record per input partition was never triaged. Records of an older
    consumer generation are still skipped by Faust's stream (they are read again from the
    committed offsets); a record read twice is a duplicate, which triage tolerates.
    """
    without_queue_clearing(app, stream)


async def until_recovered(app: faust.App, message: Any) -> bool:
    """Hold an input record while the table is still being recovered (its state would be partial).

    True once the recovery is over: process the record. False when a rebalance begins first: the
    record is then given back unprocessed (``_give_back``) and is read again from the committed
    offset, as Faust does with every record of an older generation. Holding it on through the
    rebalance would deadlock: Faust's revocation waits for every record in hand to be acked, while
    the recovery waits for the rebalance (a stall seen twice in 46 SIGKILL drills, before this).
    """
    # polled: Faust's flags (in_recovery, the generation) come with no event to await on all of them
    while app.in_recovery and not _rebalancing_since(app, message):  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    if _rebalancing_since(app, message):  # also when a whole rebalance and recovery passed meanwhile
        _give_back(app, message)
        return False
    return True


def _rebalancing_since(app: faust.App, message: Any) -> bool:
    """Did a rebalance begin after this record was fetched (flow stopped, or a newer generation)?"""
    return not app.flow_control.is_active() or message.generation_id != app.consumer_generation_id


def _give_back(app: faust.App, message: Any) -> None:
    """Leave a record uncommitted and out of Faust's books, exactly like one its stream skipped."""
    give_back(app, message)
    log.info("input_given_back", reason="rebalance_during_recovery", topic=message.topic, partition=message.partition,
             offset=message.offset)  # fmt: skip
