"""The commit order of ``Checkpoint.before_commit``: one test per step, each showing the commit waits for it.

Pure logic: the steps are stand-ins whose completion the test controls (the real ones, through
the broker, are in test_crash.py and test_worker.py). A step that has not finished holds every
later step and the commit; a step that fails stops the commit.
"""

import asyncio

import pytest

from services.triage.checkpoint import STEPS, Checkpoint


class Steps:
    """The four steps as gates the test opens; ``log`` is the order they were entered in."""

    def __init__(self) -> None:
        self.log: list[str] = []
        self.gates = {name: asyncio.Event() for name in ("states", "flush", "acks", "revisions")}
        self.fail: str | None = None

    async def _step(self, name: str) -> None:
        self.log.append(name)
        await self.gates[name].wait()
        if self.fail == name:
            raise RuntimeError(f"{name} failed")

    async def write_dirty(self) -> None:
        await self._step("states")

    async def flush(self) -> None:
        await self._step("flush")

    async def acknowledged(self) -> None:
        await self._step("acks")

    async def settled(self) -> None:
        await self._step("revisions")


async def _until(checkpoint: Checkpoint, steps: Steps, opened: list[str]) -> "asyncio.Task[None]":
    """Start a checkpoint with the gates in ``opened`` open; return it once it stands still."""
    for name in opened:
        steps.gates[name].set()
    task = asyncio.ensure_future(checkpoint.before_commit(steps.flush))
    for _ in range(10):
        await asyncio.sleep(0)
    return task


@pytest.mark.parametrize(
    ("held", "entered", "stage"),
    [
        ("states", ["states"], STEPS[0]),
        ("flush", ["states", "flush"], STEPS[1]),
        ("acks", ["states", "flush", "acks"], STEPS[2]),
        ("revisions", ["states", "flush", "acks", "revisions"], STEPS[3]),
    ],
)
async def test_the_commit_waits_for_each_step_and_no_later_step_starts_before_it(
    held: str, entered: list[str], stage: str
) -> None:
    steps = Steps()
    checkpoint = Checkpoint(steps, steps, steps)
    task = await _until(checkpoint, steps, [name for name in steps.gates if name != held])
    assert not task.done(), f"the commit went on while {held!r} had not finished"
    assert steps.log == entered
    assert checkpoint.report()["stage"] == stage
    steps.gates[held].set()
    await asyncio.wait_for(task, 1)
    assert steps.log == ["states", "flush", "acks", "revisions"]
    assert checkpoint.report() | {"for_s": 0} == {"stage": "idle", "for_s": 0, "passed": 1}


@pytest.mark.parametrize("failing", ["states", "acks", "revisions"])
async def test_a_failed_step_stops_the_commit(failing: str) -> None:
    steps = Steps()
    steps.fail = failing
    checkpoint = Checkpoint(steps, steps, steps)
    task = await _until(checkpoint, steps, list(steps.gates))
    with pytest.raises(RuntimeError, match=f"{failing} failed"):
        await asyncio.wait_for(task, 1)
    assert checkpoint.passed == 0
    assert steps.log[-1] == failing  # nothing after it ran
