"""The Escalation of CONTRACT §5: what triage publishes and notify delivers.

It names the place down to the village and counts events by type; it never carries a
reporter, traveller or recruiter identifier in any form (DOMAIN.md §3.3).
"""

from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints


class Severity(StrEnum):
    """LOW < 40 ≤ MEDIUM < 60 ≤ HIGH < 80 ≤ CRITICAL."""

    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"
    CRITICAL = "CRITICAL"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)


def severity_for_score(score: int) -> Severity:
    """The contract's fixed bands."""
    if score >= 80:
        return Severity.CRITICAL
    if score >= 60:
        return Severity.HIGH
    if score >= 40:
        return Severity.MEDIUM
    return Severity.LOW


class Reason(BaseModel):
    """One rule that contributed to a score, in words an officer understands."""

    model_config = ConfigDict(frozen=True)

    rule: Annotated[str, StringConstraints(max_length=64)]
    weight: int
    detail: Annotated[str, StringConstraints(max_length=500)]


class Escalation(BaseModel):
    """One revision of an incident, published whenever its severity rises."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    escalation_id: str = Field(description="Deterministic: the same incident revision always has the same id")
    incident_id: str
    revision: int = Field(ge=1)
    severity: Severity
    score: int = Field(ge=0, le=100)
    reasons: list[Reason]
    categories: list[str] = Field(
        default_factory=list, description="What the signals point to: TPPO, TPPM, PMI_NP, HAJI_NP"
    )
    desa_code: str
    desa_name: str
    kecamatan: str
    kabupaten: str
    provinsi: str
    event_count: int = Field(ge=1)
    event_types: dict[str, int]
    first_seen: AwareDatetime
    last_seen: AwareDatetime
    created_at: AwareDatetime
    first_received_at: AwareDatetime | None = Field(
        default=None, description="When ingest received the earliest event of this revision (end-to-end latency)"
    )
    ack_within_s: int | None = Field(
        default=None,
        ge=1,
        description="The policy's acknowledgement time for this severity: unacknowledged past it, notify escalates "
        "to the parent offices. Fixed when the revision is published, so a later policy edit never changes it.",
    )
    policy_version: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")] | None = Field(
        default=None,
        description="SHA-256 of the canonical triage policy that scored this revision (None only on records "
        "written before it was carried)",
    )
