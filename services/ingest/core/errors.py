"""Ingest's one error root: every answer other than 202 is an ``IngestError`` carrying it.

Flows and the body reader raise them without knowing HTTP; ``api/problems.py`` turns any exception
into the answer, in one place: an ``IngestError`` its status, ``{"detail": detail}`` and headers;
anything else a 503 (Valkey) or a 500 that names no data.
"""

from typing import Any


class IngestError(Exception):
    """The root: answer ``status`` with ``{"detail": detail}`` and ``headers``."""

    def __init__(self, status: int, detail: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.detail = detail
        self.headers = headers or {}


class Refusal(IngestError):
    """The request was not taken (400, 401, 403, 413, 415, 422, 429, 503)."""


class Unavailable(Refusal):
    """503 with Retry-After: the event was not taken, the client should retry later with the same event_id."""

    def __init__(self, why: str, retry_after: int) -> None:
        super().__init__(503, f"{why}; retry later with the same event_id", {"Retry-After": str(retry_after)})


class RateLimited(IngestError):
    """The channel is past its rate; ``retry_after`` seconds until its window ends (answered 429 by the intake)."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(429, "rate limited", {"Retry-After": str(max(1, retry_after))})
        self.retry_after = max(1, retry_after)


def unavailable(why: str, retry_after: int) -> Refusal:
    """503 with Retry-After: the event was not taken, the client should retry later."""
    return Unavailable(why, retry_after)
