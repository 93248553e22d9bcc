"""Every error notify answers on purpose, mapped to its response in this one place.

- a ``NotifyError`` (401, 404, 409): ``{"detail": ...}`` with its status and headers, as FastAPI
  answers an ``HTTPException``;
- the console's ``SignInRequired``: a redirect to the sign-in form (401 for the polled rows);
- a dependency away (Valkey, Kafka): 503 with ``Retry-After``, never a 500; the console says so
  in the officer's language. A resolution Kafka did not take is not a resolution: nothing changed.
"""

from aiokafka.errors import KafkaError
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from redis.exceptions import RedisError

from services.common.logs import get_logger
from services.notify.api.pages import Pages
from services.notify.core.errors import NotifyError, SignInRequired

log = get_logger("waspada.notify")
RETRY_AFTER_S = 5
"""Retry-After of the 503 the officer API and the console answer while Valkey is away."""
VALKEY_AWAY = "the escalation store is not answering; retry later"
KAFKA_AWAY = "the event log (Kafka) is not answering; nothing was changed, retry later"


def install(app: FastAPI, pages: Pages) -> None:
    """Register the handlers on ``app``; ``pages`` renders the console's error page."""

    def unavailable(request: Request, dependency: str, error: Exception, detail: str) -> Response:
        log.warning(f"notify.{dependency}_unavailable", path=request.url.path, error=type(error).__name__)
        headers = {"Retry-After": str(RETRY_AFTER_S)}
        if request.url.path.startswith("/console"):
            page = pages.page(request, "error.html", 503, message=pages.t(request)("unavailable"))
            page.headers.update(headers)
            return page
        return JSONResponse({"detail": detail}, status_code=503, headers=headers)

    @app.exception_handler(NotifyError)
    async def problem(request: Request, error: NotifyError) -> Response:
        return JSONResponse({"detail": error.detail}, status_code=error.status, headers=error.headers or None)

    @app.exception_handler(SignInRequired)
    async def to_sign_in(request: Request, _: SignInRequired) -> Response:
        if request.url.path.endswith("/rows"):
            return Response(status_code=401)
        return RedirectResponse("/console/login", status_code=303)

    @app.exception_handler(RedisError)
    async def valkey_unavailable(request: Request, error: RedisError) -> Response:
        return unavailable(request, "valkey", error, VALKEY_AWAY)

    @app.exception_handler(KafkaError)
    async def kafka_unavailable(request: Request, error: KafkaError) -> Response:
        return unavailable(request, "kafka", error, KAFKA_AWAY)
