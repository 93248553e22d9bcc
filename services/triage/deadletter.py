"""Dead-letter records: what failed, where, and why, without the failing payload's personal data."""

from typing import Any

from prometheus_client import Counter

from schemas.deadletter import DeadLetter, RecordSource

DEADLETTERS = Counter(
    "waspada_deadletter_total", "Messages sent to the dead-letter topic, by stage and reason", ["stage", "reason"]
)


def record(
    *, stage: str, reason: str, topic: str, partition: int, offset: int, errors: list[dict[str, Any]] | None = None
) -> bytes:
    """The dead-letter message body. The original payload is not copied: it may hold clear PII."""
    DEADLETTERS.labels(stage, reason).inc()
    source = RecordSource(topic=topic, partition=partition, offset=offset)
    return DeadLetter(stage=stage, reason=reason, source=source, errors=errors or []).to_bytes()
