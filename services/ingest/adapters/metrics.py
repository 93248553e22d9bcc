"""Ingest's Prometheus metrics (CONTRACT §7). Every label takes a value from a bounded set.

``type`` is one of the three event types or ``unknown``; ``channel`` is a registry id or
``unknown`` (no valid token); ``status`` is one of ``STATUSES``; ``route`` one of ingest's
own paths or ``other``. No label ever holds an event field.

With more than one worker process (``WASPADA_INGEST_WORKERS``) prometheus-client runs in its
multiprocess mode: ``__main__`` sets ``PROMETHEUS_MULTIPROC_DIR`` to a fresh directory before any
worker imports this module, every worker writes its values there, and ``/metrics`` (whichever
worker answers it) adds them up (``exposition``).
"""

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from schemas.events import MODELS
from services.common import scrub_metrics

STATUSES: Final = ("accepted", "duplicate", "rejected", "rate_limited", "unavailable", "forbidden", "unauthorized")
TYPES: Final = tuple(MODELS)
LATENCY_BUCKETS: Final = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

EVENTS = Counter(
    "waspada_ingest_events_total",
    "Events received by ingest, by type, channel and outcome",
    ["type", "channel", "status"],
)
REQUEST_SECONDS = Histogram(
    "waspada_ingest_request_seconds",
    "Time from a request's arrival to its answer, by route and HTTP status",
    ["route", "code"],
    buckets=LATENCY_BUCKETS,
)
PUBLISH_SECONDS = Histogram(
    "waspada_ingest_publish_seconds",
    "Time from handing a request's records to the producer to Kafka's acknowledgement of all of them",
    buckets=LATENCY_BUCKETS,
)
KAFKA_READY = Gauge(
    "waspada_ingest_kafka_ready",
    "1 while Kafka answers in time, 0 while ingest answers 503",
    multiprocess_mode="livemin",  # several workers: 0 while any of them answers 503
)
SCRUBBED = scrub_metrics.ScrubTally("ingest")
"""``waspada_scrubbed_total{service="ingest"}``, declared once for all services in ``services.common``."""
MULTIPROC_ENV: Final = "PROMETHEUS_MULTIPROC_DIR"
_OWN = (EVENTS, REQUEST_SECONDS, PUBLISH_SECONDS, KAFKA_READY, scrub_metrics.SCRUBBED)
_DOCS = {m._name: m._documentation for m in _OWN}


class _Documented(MultiProcessCollector):
    """The workers' values added up, each family with its own help text (not "Multiprocess metric")."""

    def collect(self) -> Iterator[Metric]:
        for family in super().collect():  # type: ignore[no-untyped-call]
            family.documentation = _DOCS.get(family.name, family.documentation)
            yield family


_registry: CollectorRegistry | None = None


def _forget_dead_workers(directory: str) -> None:
    """Drop the live-gauge files of workers that died without a clean stop (SIGKILL, OOM): uvicorn
    starts a replacement, and the dead one's last readiness must not count any more."""
    for path in Path(directory).glob("gauge_live*_*.db"):
        pid = int(path.stem.rsplit("_", 1)[1])
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            mark_process_dead(pid, directory)  # type: ignore[no-untyped-call]
        except PermissionError:  # alive, someone else's
            pass


def exposition() -> bytes:
    """The text /metrics answers: this process's metrics, or every worker's in multiprocess mode."""
    global _registry
    directory = os.environ.get(MULTIPROC_ENV)
    if not directory:
        return generate_latest()
    _forget_dead_workers(directory)
    if _registry is None:
        _registry = CollectorRegistry()
        _registry.register(_Documented(None))  # type: ignore[no-untyped-call]
    return generate_latest(_registry)


def worker_stopped() -> None:
    """Forget this worker's live gauge (multiprocess mode): a stopped worker's readiness no longer counts."""
    if os.environ.get(MULTIPROC_ENV):
        mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]


_children: dict[tuple[str, str, str], Any] = {}
_latency: dict[tuple[str, str], Any] = {}


def count(event_type: object, channel: str, status: str, n: int = 1) -> None:
    """Add ``n`` events to the outcome counter, folding unknown types into ``unknown``."""
    label = event_type if isinstance(event_type, str) and event_type in TYPES else "unknown"
    key = (label, channel, status)
    child = _children.get(key)
    if child is None:  # labels() costs a lock and a tuple per call: resolve each child once
        child = _children[key] = EVENTS.labels(*key)
    child.inc(n)


class LatencyMiddleware:
    """Pure ASGI middleware (cheaper than BaseHTTPMiddleware) timing every HTTP request."""

    def __init__(self, app: ASGIApp, routes: frozenset[str]) -> None:
        self.app = app
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, code = time.perf_counter(), "500"

        async def send_and_note(message: Message) -> None:
            nonlocal code
            if message["type"] == "http.response.start":
                code = str(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            route = scope["path"] if scope["path"] in self.routes else "other"
            child = _latency.get((route, code))
            if child is None:
                child = _latency[(route, code)] = REQUEST_SECONDS.labels(route, code)
            child.observe(time.perf_counter() - started)
