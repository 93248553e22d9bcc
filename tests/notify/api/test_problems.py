"""services/notify/api/problems.py: each NotifyError answered with its status, detail and headers, in one place."""

import asyncio
import json
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from redis.exceptions import ConnectionError as RedisConnectionError

from services.notify.api import problems
from services.notify.api.pages import Pages
from services.notify.core.errors import Conflict, NotFound, NotifyError, Unauthorized


@dataclass
class Answer:
    status_code: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def _answer(error: Exception) -> Answer:
    """GET a route that raises ``error``, through the whole ASGI app (no HTTP client needed)."""
    app = FastAPI()

    @app.get("/v1/boom")
    async def boom() -> None:
        raise error

    problems.install(app, Pages())
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/v1/boom", "raw_path": b"/v1/boom", "query_string": b"",
             "headers": [], "scheme": "http", "server": ("test", 80), "client": ("test", 1), "root_path": "",
             "http_version": "1.1", "app": app}  # fmt: skip
    asyncio.run(app(scope, receive, send))  # type: ignore[arg-type]
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return Answer(start["status"], {k.decode(): v.decode() for k, v in start["headers"]}, body)


def test_domain_errors_answer_as_fastapi_answers_an_http_exception() -> None:
    answer = _answer(Unauthorized())
    assert answer.status_code == 401 and answer.json() == {"detail": "missing or unknown office token"}
    assert answer.headers["www-authenticate"] == "Bearer"
    answer = _answer(NotFound("no dead-lettered delivery of this id in your jurisdiction"))
    assert answer.status_code == 404 and answer.json()["detail"].startswith("no dead-lettered delivery")
    answer = _answer(Conflict("already resolved"))
    assert answer.status_code == 409 and answer.json() == {"detail": "already resolved"}


def test_every_domain_error_has_the_one_root() -> None:
    assert all(issubclass(e, NotifyError) for e in (Unauthorized, NotFound, Conflict))


def test_valkey_away_is_503_with_retry_after_never_500() -> None:
    answer = _answer(RedisConnectionError("down"))
    assert answer.status_code == 503 and answer.headers["retry-after"] == "5"
    assert "retry later" in answer.json()["detail"]
