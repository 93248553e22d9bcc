"""The Faust internals triage carries (services/triage/faust_patches.py): the per-message fast path, the version pin.

Pure asyncio: the fast path's contract is that a hand-over which does not block costs no task
and no race, and one that blocks behaves exactly as under stock Faust's ``wait_first`` (raced
against a flow stop, cancelled by it). docs/upstream/test_drain_fast_path.py is the same set as
the upstream pull request would carry it.
"""

import asyncio
from typing import Any

import pytest

from services.triage import faust_patches
from services.triage.faust_patches import deliver, first_step


class FakeConsumer:
    """What ``deliver`` reads of Faust's consumer: ``suspend_flow`` and a ``wait_first`` that races."""

    def __init__(self) -> None:
        self.suspend_flow = asyncio.Event()
        self.races = 0

    async def wait_first(self, *awaitables: Any) -> None:
        self.races += 1
        tasks = [asyncio.ensure_future(a) for a in awaitables]
        done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        for task in done:
            task.result()


async def test_a_hand_over_that_does_not_block_makes_no_task_and_no_race() -> None:
    consumer, seen = FakeConsumer(), []

    async def callback(message: str) -> None:
        seen.append(message)

    tasks_before = len(asyncio.all_tasks())
    await deliver(callback, "m", consumer)
    assert seen == ["m"]
    assert consumer.races == 0
    assert len(asyncio.all_tasks()) == tasks_before


async def test_a_blocked_hand_over_is_raced_and_finishes_once_there_is_room() -> None:
    consumer = FakeConsumer()
    buffer: asyncio.Queue[str] = asyncio.Queue(maxsize=1)
    buffer.put_nowait("full")

    async def callback(message: str) -> None:
        await buffer.put(message)

    delivery = asyncio.ensure_future(deliver(callback, "m", consumer))
    await asyncio.sleep(0.01)
    assert not delivery.done() and consumer.races == 1
    assert buffer.get_nowait() == "full"
    await asyncio.wait_for(delivery, 1)
    assert buffer.get_nowait() == "m"


async def test_a_blocked_hand_over_is_cancelled_when_the_flow_stops() -> None:
    consumer, cancelled = FakeConsumer(), asyncio.Event()

    async def callback(message: str) -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    delivery = asyncio.ensure_future(deliver(callback, "m", consumer))
    await asyncio.sleep(0.01)
    consumer.suspend_flow.set()  # a rebalance
    await asyncio.wait_for(delivery, 1)
    assert cancelled.is_set()


async def test_a_stopped_flow_takes_stock_fausts_race() -> None:
    consumer = FakeConsumer()
    consumer.suspend_flow.set()

    async def callback(message: str) -> None:
        return None

    await deliver(callback, "m", consumer)
    assert consumer.races == 1


async def test_errors_of_the_first_and_of_later_steps_reach_the_caller() -> None:
    async def fails_at_once() -> None:
        raise KeyError("first")

    async def fails_later() -> None:
        await asyncio.sleep(0)
        raise ValueError("later")

    async def returns_later() -> str:
        await asyncio.sleep(0)
        return "done"

    with pytest.raises(KeyError):
        first_step(fails_at_once())
    rest = first_step(fails_later())
    assert rest is not None
    with pytest.raises(ValueError):
        await rest
    rest = first_step(returns_later())
    assert rest is not None
    assert await rest == "done"


def test_another_faust_version_refuses_to_import(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(faust_patches, "version", lambda name: "0.16.0" if name == "faust-streaming" else
                        faust_patches.WRITTEN_FOR[name])  # fmt: skip
    with pytest.raises(RuntimeError, match="written for"):
        faust_patches._check_versions()
    monkeypatch.undo()
    faust_patches._check_versions()
