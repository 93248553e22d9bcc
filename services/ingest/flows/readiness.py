"""Liveness and readiness, split the way Relay splits them.

``/healthz`` answers while the process runs (the orchestrator must not kill a pod because
Kafka is slow); ``/readyz`` fails while Kafka does not answer in time or Redis does not answer
at all, so traffic goes to other replicas, and passes again by itself once they do.
"""

import asyncio
import contextlib

from redis.asyncio import Redis

from services.common.logs import get_logger
from services.ingest.adapters import metrics
from services.ingest.adapters.kafka import KafkaGate

log = get_logger("waspada.ingest")


class Readiness:
    """What ``/readyz`` reports, kept fresh by a background probe."""

    def __init__(self, gate: KafkaGate, redis: Redis) -> None:
        self.gate = gate
        self.redis = redis
        self.redis_ok = True

    def problems(self) -> list[str]:
        """Empty when ready; else what is wrong, in words."""
        out = [] if self.gate.ready else ["kafka: no acknowledgement or metadata in time"]
        return out if self.redis_ok else [*out, "redis: not answering"]

    async def probe(self, timeout: float) -> None:
        """One round: Kafka metadata and a Redis PING, each within ``timeout``."""
        await self.gate.probe(timeout)
        try:
            self.redis_ok = bool(await asyncio.wait_for(self.redis.ping(), timeout))
        except Exception as exc:
            if self.redis_ok:
                log.warning("ingest.redis_unavailable", error=type(exc).__name__)
            self.redis_ok = False
        metrics.KAFKA_READY.set(1 if self.gate.ready else 0)

    async def run(self, interval: float) -> None:
        """Probe every ``interval`` seconds until cancelled."""
        while True:
            with contextlib.suppress(Exception):
                await self.probe(timeout=max(0.5, interval))
            await asyncio.sleep(interval)
