"""Waspada's event models: the one source of truth for what travels on the topics.

Every service imports these models; nothing redefines them. JSON Schema exports live in
``schemas/json`` (``make schemas``) and a test fails when they drift from the models.
"""

from schemas.escalation import Escalation, Reason, Severity, severity_for_score
from schemas.events import (
    DepartureAnomaly,
    Event,
    EventType,
    InputEvent,
    RecruiterSighting,
    Reporter,
    Tip,
    event_adapter,
)
from schemas.outcomes import Outcome, Resolution
from schemas.regions import Region, RegionTable, region_table
from schemas.topics import PARTITIONS, Topics

__all__ = [
    "PARTITIONS",
    "DepartureAnomaly",
    "Escalation",
    "Event",
    "EventType",
    "InputEvent",
    "Outcome",
    "Reason",
    "RecruiterSighting",
    "Region",
    "RegionTable",
    "Reporter",
    "Resolution",
    "Severity",
    "Tip",
    "Topics",
    "event_adapter",
    "region_table",
    "severity_for_score",
]
