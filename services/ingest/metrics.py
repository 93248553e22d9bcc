"""Ingest's Prometheus metrics (CONTRACT §7). Labels take bounded values only."""

from prometheus_client import Counter, Histogram

EVENTS = Counter(
    "waspada_ingest_events_total",
    "Events received by ingest, by type, channel and outcome",
    ["type", "channel", "status"],
)
PUBLISH_SECONDS = Histogram(
    "waspada_ingest_publish_seconds",
    "Time from a validated event to Kafka's acknowledgement",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
