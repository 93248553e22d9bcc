"""The loops notify runs beside its API, kept alive, and their orderly end on SIGTERM.

SIGTERM: stop fetching, let the deliveries in flight finish and be logged, commit, exit (within
``shutdown_grace_s`` plus a second or two).
"""

import asyncio
import time
from collections.abc import Awaitable, Callable

from redis.asyncio import Redis
from redis.exceptions import RedisError

from services.common.logs import get_logger
from services.notify.adapters import metrics
from services.notify.adapters.valkey import retry_queue
from services.notify.core.aio import sleep_unless
from services.notify.flows.delivery import Deliverer

log = get_logger("waspada.notify")


async def forever(name: str, make: Callable[[], Awaitable[None]], stopping: asyncio.Event) -> None:
    """Run a background loop until shutdown; if it crashes, log it and start it again (a dead consumer is the
    worst outcome)."""
    while not stopping.is_set():
        try:
            await make()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("notify.background_crashed", task=name)
            await sleep_unless(stopping, 2.0)


async def gauges(redis: Redis) -> None:
    """The unacknowledged and retry-queue gauges, every 5 s (a Valkey outage is logged once)."""
    failing = False
    while True:
        try:
            await metrics.refresh_unacknowledged(redis)
            metrics.RETRY_QUEUE.set(await retry_queue.size(redis))
            failing = False
        except RedisError as error:
            if not failing:
                log.warning("notify.gauge_unavailable", error=type(error).__name__)
            failing = True
        await asyncio.sleep(5.0)


async def shut_down(
    grace_s: float,
    deliverer: Deliverer,
    working: list[asyncio.Task[None]],
    watching: list[asyncio.Task[None]],
) -> None:
    """Stop fetching and claiming; the consumer finishes its batch (a delivery that would wait for a retry
    is parked) and commits; every attempt in flight ends and is logged. Bounded by ``grace_s``:
    what is still running then is cancelled, except attempts, which cannot be cut between a 2xx and
    its log entry (they are waited for one second more, then left to die with the process)."""
    started = time.monotonic()
    deliverer.stopping.set()
    log.info("notify.stopping", grace_s=grace_s)
    _, late = await asyncio.wait(working, timeout=grace_s)
    for task in late:
        task.cancel()
    if late:
        await asyncio.wait(late, timeout=1.0)
    unfinished = await deliverer.drain(max(1.0, grace_s - (time.monotonic() - started)))
    for task in watching:
        task.cancel()
    await asyncio.wait(watching, timeout=1.0)
    log.info(
        "notify.stopped",
        seconds=round(time.monotonic() - started, 2),
        cancelled=len(late),
        unfinished_attempts=unfinished,
    )
