"""The hold on an input record while the village table recovers (pure logic, stand-in app).

A record is held until the recovery ends; when a rebalance begins first it is given back:
Faust's revocation waits for every record in hand, and the recovery for the rebalance, so
holding on would stall the worker (seen twice in 46 SIGKILL drills).
"""

import asyncio
from types import SimpleNamespace
from typing import Any

from faust.types.tuples import Message
from mode.utils.queues import FlowControlEvent

from services.triage.recovery import until_recovered


def _app(generation: int = 3) -> Any:  # the attributes of faust.App that the hold reads
    flow = FlowControlEvent()
    flow.resume()
    return SimpleNamespace(
        in_recovery=True, flow_control=flow, consumer_generation_id=generation, consumer=SimpleNamespace(unacked=set())
    )


def _held(app: Any) -> Message:
    message = Message("waspada.tips.v1", 2, 41, 0.0, 0, {}, b"k", b"v", None, generation_id=app.consumer_generation_id)
    app.consumer.unacked.add(message)
    return message


async def test_a_record_is_held_until_the_recovery_ends_then_processed() -> None:
    app = _app()
    message = _held(app)
    hold = asyncio.ensure_future(until_recovered(app, message))
    await asyncio.sleep(0.2)
    assert not hold.done()
    app.in_recovery = False
    assert await asyncio.wait_for(hold, 1) is True
    assert not message.acked and message in app.consumer.unacked  # the stream acks it after processing


async def test_a_rebalance_during_the_hold_gives_the_record_back_unacked() -> None:
    app = _app()
    message = _held(app)
    hold = asyncio.ensure_future(until_recovered(app, message))
    await asyncio.sleep(0.1)
    app.flow_control.suspend()  # Faust's revocation begins: it will wait for app.consumer.unacked to empty
    assert await asyncio.wait_for(hold, 1) is False
    assert message.acked  # so the stream's ack at the end of the step counts no offset as done
    assert message not in app.consumer.unacked  # so the revocation does not wait for it


async def test_a_record_of_an_older_generation_is_given_back() -> None:
    app = _app()
    message = _held(app)
    app.consumer_generation_id += 1
    assert await asyncio.wait_for(until_recovered(app, message), 1) is False
    assert message not in app.consumer.unacked


async def test_a_record_held_across_a_whole_rebalance_and_recovery_is_given_back() -> None:
    app = _app()
    message = _held(app)
    hold = asyncio.ensure_future(until_recovered(app, message))
    app.consumer_generation_id += 1  # rebalanced and recovered between two looks at the flags
    app.in_recovery = False
    assert await asyncio.wait_for(hold, 1) is False
    assert message.acked and message not in app.consumer.unacked
