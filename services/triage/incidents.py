"""An incident: the related events of one village, and when it should publish a new revision."""

import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field

from schemas.escalation import Escalation, Reason, Severity, severity_for_score
from schemas.regions import region_table

ESCALATION_NAMESPACE = uuid.UUID("6f2b7c1e-5b7a-4c1e-9d51-8f5e0c3a2b10")


class Incident(BaseModel):
    """State kept per village in a Faust table (stored as a plain dict)."""

    incident_id: str
    desa_code: str
    revision: int = 0
    score: int = 0
    severity: Severity = Severity.LOW
    reasons: list[Reason] = Field(default_factory=list)
    event_count: int = 0
    event_types: dict[str, int] = Field(default_factory=dict)
    first_seen: datetime
    last_seen: datetime
    first_received_at: datetime | None = None

    @classmethod
    def open(cls, desa_code: str, at: datetime) -> "Incident":
        incident_id = str(uuid.uuid5(ESCALATION_NAMESPACE, f"incident:{desa_code}:{at.isoformat()}"))
        return cls(incident_id=incident_id, desa_code=desa_code, first_seen=at, last_seen=at)

    def add(self, event_type: str, occurred_at: datetime, reasons: list[Reason], received_at: datetime | None) -> bool:
        """Count one event in; True when the severity rose to MEDIUM or above (a new revision)."""
        self.event_count += 1
        self.event_types[event_type] = self.event_types.get(event_type, 0) + 1
        self.first_seen = min(self.first_seen, occurred_at)
        self.last_seen = max(self.last_seen, occurred_at)
        if received_at and not self.first_received_at:
            self.first_received_at = received_at
        self.reasons = [*self.reasons, *reasons]
        self.score = min(100, sum(r.weight for r in self.reasons))
        severity = severity_for_score(self.score)
        rose = severity.rank > self.severity.rank and severity.rank >= Severity.MEDIUM.rank
        self.severity = max(self.severity, severity, key=lambda s: s.rank)
        if rose:
            self.revision += 1
        return rose

    def escalation(self) -> Escalation:
        """The revision to publish; its id is a function of incident and revision only."""
        region = region_table().village(self.desa_code)
        return Escalation(
            escalation_id=str(uuid.uuid5(ESCALATION_NAMESPACE, f"{self.incident_id}:{self.revision}")),
            incident_id=self.incident_id,
            revision=self.revision,
            severity=self.severity,
            score=self.score,
            reasons=self.reasons,
            desa_code=self.desa_code,
            desa_name=region.desa_name,
            kecamatan=region.kecamatan,
            kabupaten=region.kabupaten,
            provinsi=region.provinsi,
            event_count=self.event_count,
            event_types=dict(self.event_types),
            first_seen=self.first_seen,
            last_seen=self.last_seen,
            created_at=datetime.now(UTC),
            first_received_at=self.first_received_at,
        )

    def to_table(self) -> dict[str, Any]:
        return self.model_dump(mode="json")
