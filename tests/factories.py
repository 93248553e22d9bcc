"""The test data of every suite in one place: valid event bodies (as a channel posts them) and escalations
(as triage publishes them), each with fresh ids; keyword overrides replace fields.

``bench/events.py`` keeps its own generators (the bench ships without the tests) and ``tests/triage``
builds parsed events from these shapes in its conftest.
"""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

LONTAR = "36.04.13.2007"
"""A village of Kabupaten Serang, Banten, covered by the shipped directory and the demo channels."""


def now_minus(minutes: float = 1) -> str:
    return (datetime.now(UTC) - timedelta(minutes=minutes)).isoformat()


def tip(desa_code: str = LONTAR, **overrides: Any) -> dict[str, Any]:
    """A valid Tip body; ``overrides`` replace fields."""
    body: dict[str, Any] = {
        "event_id": str(uuid.uuid4()),
        "occurred_at": (datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
        "desa_code": desa_code,
        "category": "online_scam_job",
        "persons_involved": 2,
        "minors_involved": True,
        "destination_country": "KH",
        "description": "Tawaran kerja admin di Kamboja untuk remaja desa",
    }
    return {**body, **overrides}


def departure(desa_code: str = LONTAR, **overrides: Any) -> dict[str, Any]:
    """A valid DepartureAnomaly body."""
    body = {
        "event_id": str(uuid.uuid4()),
        "occurred_at": now_minus(),
        "desa_code": desa_code,
        "checkpoint": "TPI-SOETTA",
        "traveller": "C 123 4567",
        "age": 17,
        "sex": "F",
        "declared_purpose": "umrah",
        "destination_country": "SA",
        "indicators": ["sponsor_accompanied"],
        "action": "delayed",
    }
    return {**body, **overrides}


def sighting(desa_code: str = "62.71.01.1003", **overrides: Any) -> dict[str, Any]:
    """A valid RecruiterSighting body."""
    body = {
        "event_id": str(uuid.uuid4()),
        "occurred_at": now_minus(),
        "desa_code": desa_code,
        "recruiter": "0813-9999-0000",
        "activity": ["door_to_door"],
        "persons_approached": 4,
        "promised_destination": "MY",
        "licensed_agency": False,
    }
    return {**body, **overrides}


def typed(kind: str, body: dict[str, Any]) -> dict[str, Any]:
    """A batch item: the body with its ``type``."""
    return {"type": kind, **body}


def escalation(desa_code: str = LONTAR, severity: str = "MEDIUM", score: int = 50, **overrides: Any) -> dict[str, Any]:
    """A valid Escalation as triage would publish it, with fresh ids."""
    now = datetime.now(UTC)
    body: dict[str, Any] = {
        "escalation_id": f"esc_{uuid.uuid4().hex}",
        "incident_id": f"inc_{uuid.uuid4().hex}",
        "revision": 1,
        "severity": severity,
        "score": score,
        "reasons": [{"rule": "online_scam_job_destination", "weight": 45, "detail": "Tawaran kerja ke Kamboja"}],
        "categories": ["TPPO"],
        "desa_code": desa_code,
        "desa_name": "Lontar",
        "kecamatan": "Tirtayasa",
        "kabupaten": "KABUPATEN SERANG",
        "provinsi": "BANTEN",
        "event_count": 1,
        "event_types": {"tip": 1},
        "first_seen": (now - timedelta(hours=1)).isoformat(),
        "last_seen": now.isoformat(),
        "created_at": now.isoformat(),
        "first_received_at": (now - timedelta(seconds=1)).isoformat(),
    }
    return {**body, **overrides}
