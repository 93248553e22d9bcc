"""Folding an event into its village's incident, and the Escalation revision it may cause.

An incident scores its worst single event plus the cross-signal rules that hold; its score never
falls, so severity only rises and a revision is published exactly when it does. Ids are
uuid5 of stable inputs (the opening event, the revision number) and ``created_at`` is the Kafka
timestamp of the triggering record: a replay rebuilds byte-identical revisions.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from schemas.escalation import Escalation, Reason, Severity, severity_for_score
from schemas.events import InputEvent
from schemas.regions import region_table
from services.triage.correlate import Correlated
from services.triage.policy import Policy
from services.triage.rules import Assessment, ordered_categories
from services.triage.state import Incident, epoch, from_epoch

ESCALATION_NAMESPACE = uuid.UUID("6f2b7c1e-5b7a-4c1e-9d51-8f5e0c3a2b10")


@dataclass(frozen=True, slots=True)
class Arrival:
    """Transport facts about a message: deterministic across replays (read from the record)."""

    record_time: datetime
    channel: str | None = None
    received_at: datetime | None = None
    position: str | None = None
    """``topic:partition:offset`` of the record: a crash replay re-reads the very same record."""


TAIL_MAX = 20
"""Contributions an incident keeps (its latest events): enough to move out the events that reached
triage between an office's resolution and triage reading it, however a restart interleaves topics."""


@dataclass(frozen=True, slots=True)
class Contribution:
    """What one event added to its incident, as plain values (stored in the incident's tail)."""

    event_id: str
    record_time: float
    """The Kafka timestamp of the event's record: when the system took the report."""
    kind: str
    at: float
    received_at: float | None
    score: int
    floor: int
    reasons: list[list[Any]]
    categories: dict[str, int]

    @classmethod
    def of(cls, event: InputEvent, assessment: Assessment, arrival: Arrival) -> "Contribution":
        received = epoch(arrival.received_at) if arrival.received_at is not None else None
        return cls(
            event_id=str(event.event_id),
            record_time=epoch(arrival.record_time),
            kind=event.type,
            at=epoch(event.occurred_at),
            received_at=received,
            score=assessment.score,
            floor=assessment.floor,
            reasons=[[r.rule, r.weight, r.detail] for r in assessment.reasons],
            categories=dict(assessment.categories),
        )

    def dump(self) -> list[Any]:
        return [getattr(self, name) for name in self.__slots__]

    @classmethod
    def load(cls, raw: list[Any]) -> "Contribution":
        return cls(*raw)


def open_incident(desa_code: str, event_id: str, at: float) -> Incident:
    """A new incident, named after the village and the event that opened it."""
    incident_id = str(uuid.uuid5(ESCALATION_NAMESPACE, f"incident:{desa_code}:{event_id}"))
    return Incident(incident_id=incident_id, opened_by=event_id, first_seen=at, last_seen=at)


def _count_in(incident: Incident, part: Contribution) -> None:
    incident.event_count += 1
    incident.event_types = {**incident.event_types, part.kind: incident.event_types.get(part.kind, 0) + 1}
    incident.first_seen = min(incident.first_seen, part.at)
    incident.last_seen = max(incident.last_seen, part.at)
    if part.received_at is not None:
        first = incident.first_received_at
        incident.first_received_at = part.received_at if first is None else min(first, part.received_at)
    categories = dict(incident.categories)
    for name, weight in part.categories.items():
        categories[name] = categories.get(name, 0) + weight
    incident.categories = categories
    if part.score > incident.base_score or (part.reasons and not incident.base_reasons):
        incident.base_score = part.score
        incident.base_floor = part.floor
        incident.base_reasons = part.reasons
    incident.tail = [*incident.tail[-(TAIL_MAX - 1) :], part.dump()]


def fold(incident: Incident, part: Contribution, found: list[Correlated]) -> bool:
    """Count ``part`` in; True when the severity rose to MEDIUM or above (publish a revision)."""
    _count_in(incident, part)
    bonus = sum(c.reason.weight for c in found)
    floor = max([incident.base_floor, *(c.floor for c in found)])
    candidate = max(min(100, incident.base_score + bonus), floor)
    if candidate <= incident.score:
        return False
    categories = dict(incident.categories)
    for correlated in found:
        for name in correlated.categories:
            categories[name] = categories.get(name, 0) + correlated.reason.weight
    incident.categories = categories
    incident.score = candidate
    incident.reasons = [*incident.base_reasons, *([c.reason.rule, c.reason.weight, c.reason.detail] for c in found)]
    before = Severity(incident.severity)
    after = severity_for_score(candidate)
    incident.severity = after.value
    rose = after.rank > before.rank and after.rank >= Severity.MEDIUM.rank
    if rose:
        incident.revision += 1
    return rose


def escalation(incident: Incident, desa_code: str, policy: Policy, arrival: Arrival) -> Escalation:
    """The revision to publish; every field is a function of the state and the triggering record."""
    region = region_table().village(desa_code)
    severity = Severity(incident.severity)
    first_received = incident.first_received_at
    return Escalation(
        escalation_id=str(uuid.uuid5(ESCALATION_NAMESPACE, f"{incident.incident_id}:{incident.revision}")),
        incident_id=incident.incident_id,
        revision=incident.revision,
        severity=severity,
        score=incident.score,
        reasons=[Reason(rule=r[0], weight=r[1], detail=r[2]) for r in incident.reasons],
        categories=ordered_categories(incident.categories),
        desa_code=desa_code,
        desa_name=region.desa_name,
        kecamatan=region.kecamatan,
        kabupaten=region.kabupaten,
        provinsi=region.provinsi,
        event_count=incident.event_count,
        event_types=dict(incident.event_types),
        first_seen=from_epoch(incident.first_seen),
        last_seen=from_epoch(incident.last_seen),
        created_at=arrival.record_time,
        first_received_at=from_epoch(first_received) if first_received is not None else None,
        ack_within_s=policy.ack_within_s(severity),
        policy_version=policy.fingerprint,
    )
