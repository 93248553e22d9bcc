"""``/readyz``: Valkey answers a PING (probed every second) and the process is not shutting down.

``/healthz`` stays ok meanwhile: the orchestrator must not kill a pod because Valkey is away.
"""

import asyncio

from redis.asyncio import Redis

from services.common.logs import get_logger

log = get_logger("waspada.notify")


class Readiness:
    """What ``/readyz`` reports, kept fresh by ``run``."""

    def __init__(self, redis: Redis, stopping: asyncio.Event) -> None:
        self.redis = redis
        self.stopping = stopping
        self.redis_ok = False

    def problems(self) -> list[str]:
        out = [] if self.redis_ok else ["valkey: not answering"]
        return [*out, "shutting down"] if self.stopping.is_set() else out

    async def run(self) -> None:
        while True:
            try:
                ok = bool(await asyncio.wait_for(self.redis.ping(), 1.0))
            except Exception:
                ok = False
            if ok != self.redis_ok:
                (log.info if ok else log.warning)("notify.valkey_" + ("available" if ok else "unavailable"))
            self.redis_ok = ok
            await asyncio.sleep(1.0)
