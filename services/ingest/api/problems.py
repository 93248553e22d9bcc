"""Every exception a request can end in, mapped to its answer in this one place.

An ``IngestError`` answers its status with ``{"detail": detail}`` and its headers; a Valkey error
that the intake did not map is still "retry later" (503), never a 500; anything else is a bug:
500, logged with where it happened and never with its message (it may quote the body).
"""

from typing import Any

import orjson
from fastapi import Response
from redis.exceptions import RedisError

from services.common.logs import get_logger
from services.ingest.core.errors import IngestError, unavailable

log = get_logger("waspada.ingest")
Answer = tuple[int, bytes, list[tuple[bytes, bytes]]]
"""Status, body and raw headers: what the fast path sends and ``to_response`` wraps for FastAPI."""
JSON_HEADERS = [(b"content-type", b"application/json")]


def answer(status: int, body: Any, headers: dict[str, str] | None = None) -> Answer:
    extra = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    return status, orjson.dumps(body), JSON_HEADERS + extra


def problem(exc: Exception, retry_after_s: int) -> Answer:
    """The answer for an exception a request ended in."""
    if isinstance(exc, IngestError):
        return answer(exc.status, {"detail": exc.detail}, exc.headers)
    if isinstance(exc, RedisError):
        log.warning("ingest.redis_unavailable", error=type(exc).__name__)
        down = unavailable("Redis cannot record the event now", retry_after_s)
        return answer(down.status, {"detail": down.detail}, down.headers)
    log.error("ingest.internal_error", error=type(exc).__name__, where=_where(exc))
    return answer(500, {"detail": "internal error"})


def _where(exc: BaseException) -> str:
    """file:line of the innermost frame: enough to find a bug, without the message (it may hold data)."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return f"{tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}" if tb else "?"


def to_response(answer: Answer) -> Response:
    status, body, headers = answer
    return Response(
        body,
        status_code=status,
        headers={k.decode(): v.decode() for k, v in headers[1:]},
        media_type="application/json",
    )


def json_response(status: int, body: Any) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")
