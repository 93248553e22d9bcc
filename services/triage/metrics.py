"""Triage's Prometheus metrics (CONTRACT §7). Labels never carry an identifier, only kinds."""

from prometheus_client import Counter, Gauge, Histogram

from services.common.scrub_metrics import ScrubTally

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
    "Events that arrived with personal data in clear, as an identifier or in free text (a publisher bypassed the"
    " client), and were de-identified",
    ["type"],
)
SCRUBBED = ScrubTally("triage")
"""``waspada_scrubbed_total{service="triage"}``, declared once for all services in ``services.common``."""
LAG = Gauge("waspada_triage_consumer_lag", "Messages on the input topics not yet processed", ["topic"])
STALLED = Gauge("waspada_triage_stalled", "1 while messages are pending and the agent makes no progress")
