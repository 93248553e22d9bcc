"""Triage's Prometheus metrics (CONTRACT §7). Labels never carry an identifier, only kinds."""

from prometheus_client import Counter, Gauge, Histogram

EVENTS = Counter(
    "waspada_triage_events_total",
    "Events triaged, by type and outcome (escalated, recorded, merged, duplicate, rekeyed, invalid, error)",
    ["type", "outcome"],
)
ESCALATIONS = Counter("waspada_escalations_total", "Escalation revisions published, by severity", ["severity"])
REPLAYED = Counter(
    "waspada_triage_revisions_resent_total", "Revisions sent again unchanged because their trigger was replayed"
)
SCORES = Histogram(
    "waspada_triage_score", "Score of each new event (0–100)", buckets=(10, 20, 30, 40, 50, 60, 70, 80, 90, 100)
)
PSEUDONYMISED = Counter(
    "waspada_triage_pseudonymised_total",
    "Events that arrived with a clear personal identifier (a publisher bypassed the client) and were pseudonymised",
    ["type"],
)
LAG = Gauge("waspada_triage_consumer_lag", "Messages on the input topics not yet processed", ["topic"])
STALLED = Gauge("waspada_triage_stalled", "1 while messages are pending and the agent makes no progress")
