"""Two asyncio idioms notify's loops share: a sleep that shutdown cuts short, and a gather that settles all."""

import asyncio
from collections.abc import Awaitable, Iterable
from typing import TypeVar

T = TypeVar("T")


async def sleep_unless(stopping: asyncio.Event, seconds: float) -> bool:
    """Sleep ``seconds``; return True at once if ``stopping`` is set meanwhile (shutdown never waits a backoff)."""
    try:
        await asyncio.wait_for(stopping.wait(), max(0.0, seconds))
    except TimeoutError:
        return False
    return True


async def settle_all(
    awaitables: Iterable[Awaitable[T]], *, outages_first: tuple[type[BaseException], ...] = ()
) -> list[T]:
    """Run every awaitable to its end, then raise the first failure, if any; one of ``outages_first`` before others.

    Unlike a plain gather, no sibling is still running when the failure is raised: a batch replayed
    after it never overlaps a straggler of the failed one. An outage outranks any other failure, so a
    record that failed beside a Valkey outage is replayed, never taken for poison and committed past.
    """
    results = await asyncio.gather(*awaitables, return_exceptions=True)
    failures = [r for r in results if isinstance(r, BaseException)]
    if failures:
        raise next((f for f in failures if isinstance(f, outages_first)), failures[0])
    return [r for r in results if not isinstance(r, BaseException)]
