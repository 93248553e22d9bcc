"""A record on ``waspada.deadletter.v1``: what gave up, where, and why, without the failing payload.

Triage dead-letters input records it cannot take (malformed, invalid, or an event that made it
fail), notify escalation records it cannot deliver and single deliveries that exhausted their
retries or failed for good. Each says where the original is (a topic and offset, or the delivery
of an escalation to an office), so an operator can read it again; none copies the payload, which
may hold personal data in clear (a publisher that bypassed the client).
"""

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from schemas.topics import Topics


class RecordSource(BaseModel):
    """The Kafka record that was dead-lettered: read it again at this offset."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    topic: str
    partition: int = Field(ge=0)
    offset: int = Field(ge=0)


class DeliverySource(BaseModel):
    """The one delivery of an escalation revision to an office that was dead-lettered."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    topic: Literal["waspada.escalations.v1"] = Topics.ESCALATIONS
    escalation_id: str
    incident_id: str
    office_id: str
    channel: Literal["webhook", "email"]
    delivery_id: str = Field(description="The delivery's webhook-id: POST /v1/deliveries/{id}/redeliver sends it again")
    step: int = Field(ge=0, description="0 for the first page, n for the n-th escalation to the parents")


class DeadLetter(BaseModel):
    """The body of a dead-letter record (the key is the original record's key: the village)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    stage: Literal["triage", "notify"]
    reason: str = Field(description="Why it gave up, one of a few fixed words (the metric's `reason` label)")
    source: RecordSource | DeliverySource
    errors: list[dict[str, Any]] = Field(
        default_factory=list, description="Where and why (field locations and error types), never the rejected value"
    )
    dead_lettered_at: AwareDatetime = Field(default_factory=lambda: datetime.now(UTC))

    def to_bytes(self) -> bytes:
        """The record's value as published."""
        return self.model_dump_json().encode()
