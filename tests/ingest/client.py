"""HTTP calls with raw bodies and headers (tests.support.http always sends JSON), and event bodies."""

import gzip
import json
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.support import tip


def post_raw(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
    """(status, parsed JSON body or text, response headers)."""
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            raw, status, got = response.read(), int(response.status), dict(response.headers)
    except urllib.error.HTTPError as exc:
        raw, status, got = exc.read(), exc.code, dict(exc.headers)
    try:
        return status, json.loads(raw), got
    except ValueError:
        return status, raw.decode(errors="replace"), got


def post(url: str, body: Any, token: str | None, *, gzipped: bool = False) -> tuple[int, Any, dict[str, str]]:
    """POST ``body`` as JSON (optionally gzip-encoded) with a bearer token."""
    data = json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if gzipped:
        data, headers["Content-Encoding"] = gzip.compress(data), "gzip"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return post_raw(url, data, headers)


def now_minus(minutes: float = 1) -> str:
    return (datetime.now(UTC) - timedelta(minutes=minutes)).isoformat()


def departure(desa_code: str = "36.04.13.2007", **overrides: Any) -> dict[str, Any]:
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


__all__ = ["departure", "post", "post_raw", "sighting", "tip", "typed"]
