"""The Escalation of CONTRACT §5: what triage publishes and notify delivers.

It names the place down to the village and counts events by type; it never carries a
reporter, traveller or recruiter identifier in any form (DOMAIN.md §3.3).

Its strings hold no control character (C0 such as CR, LF and tab, DEL, C1) and no Unicode line
or paragraph separator: an escalation is printed into e-mail headers, a console page and an
officer's log, where a line break is an injection (a ``desa_name`` with CRLF made the e-mail
builder raise, and once held a partition's deliveries back). Notify dead-letters such a record
as ``invalid_escalation`` before any delivery.
"""

from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

CONTROL_CHARACTERS = r"\x00-\x1f\x7f-\x9f\u2028\u2029"
"""C0, DEL, C1, and U+2028/U+2029 (line breaks to ``str.splitlines`` and to the e-mail header check)."""
PlainText = Annotated[str, StringConstraints(pattern=rf"^[^{CONTROL_CHARACTERS}]*$")]
"""A string of one line without control characters."""


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

    rule: Annotated[PlainText, StringConstraints(max_length=64)]
    weight: int
    detail: Annotated[PlainText, StringConstraints(max_length=500)]


class Escalation(BaseModel):
    """One revision of an incident, published whenever its severity rises."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    escalation_id: PlainText = Field(description="Deterministic: the same incident revision always has the same id")
    incident_id: PlainText
    revision: int = Field(ge=1)
    severity: Severity
    score: int = Field(ge=0, le=100)
    reasons: list[Reason]
    categories: list[PlainText] = Field(
        default_factory=list, description="What the signals point to: TPPO, TPPM, PMI_NP, HAJI_NP"
    )
    desa_code: PlainText
    desa_name: PlainText
    kecamatan: PlainText
    kabupaten: PlainText
    provinsi: PlainText
    event_count: int = Field(ge=1)
    event_types: dict[PlainText, int]
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
