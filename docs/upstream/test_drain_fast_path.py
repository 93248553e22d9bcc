"""Tests of faust-drain-fast-path.patch, as they would go into faust-streaming's t/unit/transport/test_consumer.py.

Run against a patched faust (docs/upstream/README.md says how). The same behaviour, carried in
triage until upstream has it, is tested in tests/triage/test_faust_patches.py.
"""

import asyncio
from unittest.mock import Mock

import pytest
from faust.transport.consumer import Consumer, _first_step


class _Deliverer:
    """Just what ``Consumer._deliver`` reads of a consumer: ``suspend_flow`` and ``wait_first``."""

    _deliver = Consumer._deliver

    def __init__(self) -> None:
        self.suspend_flow = asyncio.Event()
        self.wait_first = Mock(name="wait_first", side_effect=self._race)
        self.raced: list[object] = []

    async def _race(self, *awaitables: object) -> None:
        self.raced.append(awaitables[0])
        tasks = [asyncio.ensure_future(a) for a in awaitables]  # type: ignore[arg-type]
        done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        for task in done:
            task.result()


@pytest.mark.asyncio
async def test_a_callback_that_does_not_suspend_is_not_raced() -> None:
    consumer = _Deliverer()
    seen = []

    async def callback(message: object) -> None:
        seen.append(message)

    tasks_before = len(asyncio.all_tasks())
    await consumer._deliver(callback, "m")
    assert seen == ["m"]
    consumer.wait_first.assert_not_called()
    assert len(asyncio.all_tasks()) == tasks_before


@pytest.mark.asyncio
async def test_a_callback_that_suspends_is_raced_and_completes() -> None:
    consumer = _Deliverer()
    room = asyncio.Queue(maxsize=1)
    room.put_nowait("full")

    async def callback(message: object) -> None:
        await room.put(message)  # blocks until the queue has room

    delivery = asyncio.ensure_future(consumer._deliver(callback, "m"))
    await asyncio.sleep(0.01)
    assert not delivery.done()
    consumer.wait_first.assert_called_once()
    assert room.get_nowait() == "full"
    await asyncio.wait_for(delivery, 1)
    assert room.get_nowait() == "m"


@pytest.mark.asyncio
async def test_a_blocked_callback_is_abandoned_when_the_flow_stops() -> None:
    consumer = _Deliverer()
    cancelled = asyncio.Event()

    async def callback(message: object) -> None:
        try:
            await asyncio.Event().wait()  # a stream buffer that never drains
        except asyncio.CancelledError:
            cancelled.set()
            raise

    delivery = asyncio.ensure_future(consumer._deliver(callback, "m"))
    await asyncio.sleep(0.01)
    consumer.suspend_flow.set()  # a rebalance begins
    await asyncio.wait_for(delivery, 1)
    assert cancelled.is_set()  # the rest of the callback got the cancellation, as a task of its own would


@pytest.mark.asyncio
async def test_a_suspended_flow_takes_the_stock_path() -> None:
    consumer = _Deliverer()
    consumer.suspend_flow.set()

    async def callback(message: object) -> None:
        return None

    await consumer._deliver(callback, "m")
    consumer.wait_first.assert_called_once()


@pytest.mark.asyncio
async def test_first_step_propagates_an_error_of_the_first_step() -> None:
    async def callback() -> None:
        raise KeyError("boom")

    with pytest.raises(KeyError):
        _first_step(callback())


@pytest.mark.asyncio
async def test_the_rest_returns_the_result_and_raises_the_error_of_later_steps() -> None:
    async def later(fail: bool) -> str:
        await asyncio.sleep(0)
        if fail:
            raise ValueError("later")
        return "done"

    rest = _first_step(later(False))
    assert rest is not None
    assert await rest == "done"
    rest = _first_step(later(True))
    assert rest is not None
    with pytest.raises(ValueError):
        await rest
