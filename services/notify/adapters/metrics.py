"""Notify's Prometheus metrics (CONTRACT §7)."""

from collections.abc import Iterable
from typing import get_args

from prometheus_client import Counter, Gauge, Histogram
from redis.asyncio import Redis

from schemas.escalation import Severity
from services.notify.adapters.valkey import store
from services.notify.core.directory import Agency

NOTIFICATIONS = Counter(
    "waspada_notifications_total", "Notification deliveries, by channel type and outcome", ["channel", "outcome"]
)
DELIVERY_SECONDS = Histogram(
    "waspada_notification_delivery_seconds",
    "Time of one delivery attempt, success or not",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
END_TO_END_SECONDS = Histogram(
    "waspada_end_to_end_seconds",
    "From ingest receipt of the first event to the first delivered notification",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
UNACKNOWLEDGED = Gauge(
    "waspada_escalations_unacknowledged", "Open escalations nobody has acknowledged yet", ["severity"]
)
RETRY_QUEUE = Gauge(
    "waspada_notify_retry_queue", "Deliveries parked in the durable retry queue (a receiver is failing)"
)
DEADLETTERS = Counter(
    "waspada_deadletter_total", "Messages sent to the dead-letter topic, by stage and reason", ["stage", "reason"]
)
UNROUTED = Counter(
    "waspada_notify_unrouted_total",
    "Escalation revisions sent to an agency's national desk: the directory has no office of it for the village",
    ["agency"],
)
for _agency in get_args(Agency):  # a series at 0 from the start, so that increase() sees the first one
    UNROUTED.labels(_agency)


async def refresh_unacknowledged(redis: Redis) -> None:
    """Set the gauge from Redis, the one place every replica agrees on (and that survives restarts)."""
    counts = await store.unacknowledged_by_severity(redis)
    for severity in Severity:
        UNACKNOWLEDGED.labels(severity.value).set(counts.get(severity.value, 0))


def count_unrouted(agencies: Iterable[str], *, first_sight: bool) -> None:
    """Count a revision once per agency whose desk got it: only on its first sight (stored just now,
    across replicas and restarts), so a replay of the topic after a restart does not count it again."""
    if first_sight:
        for agency in agencies:
            UNROUTED.labels(agency).inc()
