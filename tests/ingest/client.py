"""HTTP calls with raw bodies and headers (tests.support.http always sends JSON), and event bodies."""

import gzip
import json
import urllib.error
import urllib.request
from typing import Any

from tests.factories import departure, now_minus, sighting, tip, typed


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


__all__ = ["departure", "now_minus", "post", "post_raw", "sighting", "tip", "typed"]
