"""Event bodies for load: escalating tips in villages the directory covers, routine ones anywhere.

"Escalating" uses what surely escalates under any sane policy (CONTRACT §5, DOMAIN §1.6): an
online-scam job offer to Cambodia with minors involved. Each escalating event goes to a fresh
village, because an incident escalates again only when its severity rises: one village, one
escalation, one set of notifications, which is what lets a drill account for every event.
"""

import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from schemas.events import event_adapter
from schemas.regions import region_table
from services.common.settings import CONFIG_DIR


def covered_prefixes(directory: Path = CONFIG_DIR / "directory.yaml") -> list[str]:
    """Jurisdiction prefixes of every office with a webhook channel."""
    offices = yaml.safe_load(directory.read_text(encoding="utf-8"))["offices"]
    return [p for o in offices if any(c["type"] == "webhook" for c in o.get("channels", [])) for p in o["jurisdiction"]]


def covered_villages(seed: int = 8) -> list[str]:
    """Every village some office with a webhook holds jurisdiction over, shuffled reproducibly."""
    codes = sorted({v for p in covered_prefixes() for v in region_table().villages_under(p)})
    random.Random(seed).shuffle(codes)
    return codes


def uncovered_villages(seed: int = 8) -> list[str]:
    """Villages no office in the shipped directory covers: escalations there notify nobody."""
    prefixes = tuple(p + "." for p in covered_prefixes())
    codes = sorted(v for v in region_table().villages if not v.startswith(prefixes))
    random.Random(seed).shuffle(codes)
    return codes


def _now(minutes_ago: float = 1.0) -> str:
    return (datetime.now(UTC) - timedelta(minutes=minutes_ago)).isoformat()


def escalating_tip(desa_code: str) -> dict[str, Any]:
    """A tip that escalates at HIGH or above: minors, an online-scam job offer to Cambodia."""
    return {
        "type": "tip",
        "event_id": str(uuid.uuid4()),
        "occurred_at": _now(),
        "desa_code": desa_code,
        "category": "online_scam_job",
        "persons_involved": 2,
        "minors_involved": True,
        "destination_country": "KH",
        "description": "Tawaran kerja admin di Kamboja lewat Telegram untuk remaja desa",
    }


def routine_tip(desa_code: str) -> dict[str, Any]:
    """A lone tip of category ``other``, no minors, no destination: recorded, not escalated."""
    return {
        "type": "tip",
        "event_id": str(uuid.uuid4()),
        "occurred_at": _now(),
        "desa_code": desa_code,
        "category": "other",
        "persons_involved": 1,
        "minors_involved": False,
        "description": f"Laporan rutin warga nomor {random.randrange(10**9)}",
    }


def departure_anomaly(desa_code: str) -> dict[str, Any]:
    """A departure anomaly as a checkpoint reports it (traveller already a pseudonym, as on the topic)."""
    return {
        "type": "departure_anomaly",
        "event_id": str(uuid.uuid4()),
        "occurred_at": _now(),
        "desa_code": desa_code,
        "checkpoint": "TPI-SOETTA",
        "traveller": "psn_" + uuid.uuid4().hex,
        "age": random.randint(15, 40),
        "sex": random.choice(["F", "M"]),
        "declared_purpose": random.choice(["tourism", "umrah", "visit", "work"]),
        "destination_country": random.choice(["MY", "SA", "KH", "AE"]),
        "indicators": random.sample(["one_way_ticket", "sponsor_accompanied", "no_epmi", "no_work_visa"], 2),
        "action": "delayed",
    }


def recruiter_sighting(desa_code: str) -> dict[str, Any]:
    return {
        "type": "recruiter_sighting",
        "event_id": str(uuid.uuid4()),
        "occurred_at": _now(),
        "desa_code": desa_code,
        "recruiter": "psn_" + uuid.uuid4().hex,
        "activity": ["door_to_door"],
        "persons_approached": random.randint(0, 9),
        "promised_destination": "MY",
        "licensed_agency": False,
    }


def mixed_events(count: int, villages: list[str]) -> Iterator[dict[str, Any]]:
    """A realistic mix for the triage figure: 60 % tips (a third escalating), 25 % departures, 15 % sightings."""
    rng = random.Random(count)
    for i in range(count):
        desa, roll = villages[i % len(villages)], rng.random()
        if roll < 0.2:
            yield escalating_tip(desa)
        elif roll < 0.6:
            yield routine_tip(desa)
        elif roll < 0.85:
            yield departure_anomaly(desa)
        else:
            yield recruiter_sighting(desa)


def as_published(body: dict[str, Any]) -> bytes:
    """The bytes ingest would put on the topic for ``body`` (validated by the shared schema)."""
    return event_adapter.validate_python(body).model_dump_json().encode()
