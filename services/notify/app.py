"""The notify FastAPI application: the escalation consumer, the timers and the officer API (CONTRACT §6)."""

import asyncio
import contextlib
import hashlib
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from typing import Annotated, Any

import httpx
from fastapi import Depends, FastAPI, HTTPException, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, ConfigDict, Field
from redis.asyncio import Redis

from schemas.topics import Topics
from services.common.config_files import load_config_or_exit
from services.common.kafka import ensure_topics, make_producer
from services.common.logs import get_logger
from services.notify import console, consumer, metrics
from services.notify.delivery import Deliverer
from services.notify.directory import Directory, EmailChannel, Office
from services.notify.officer import Conflict, Officers
from services.notify.router import Router
from services.notify.settings import NotifySettings

log = get_logger("waspada.notify")


class NoteBody(BaseModel):
    """Optional body of an acknowledgement or resolution."""

    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(default=None, max_length=500)


def token_index(directory: Directory) -> dict[str, Office]:
    """SHA-256 of an office token → office (raw tokens are never stored)."""
    return {o.token_sha256: o for o in directory.offices}


def office_for_token(index: dict[str, Office], token: str) -> Office | None:
    return index.get(hashlib.sha256(token.strip().encode()).hexdigest()) if token.strip() else None


async def _forever(name: str, make: Any) -> None:
    """Run a background loop; if it crashes, log it and start it again (a dead consumer is the worst outcome)."""
    while True:
        try:
            await make()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("notify.background_crashed", task=name)
            await asyncio.sleep(2.0)


async def _gauge_loop(redis: Redis) -> None:
    while True:
        await metrics.refresh_unacknowledged(redis)
        await asyncio.sleep(5.0)


def create_app(settings: NotifySettings) -> FastAPI:
    """The application; its lifespan runs the escalation consumer and the timers beside the API."""
    directory = load_config_or_exit(settings.directory, Directory)
    by_token = token_index(directory)
    if not settings.smtp_url and any(isinstance(c, EmailChannel) for o in directory.offices for c in o.channels):
        log.warning("notify.smtp_not_configured", hint="set WASPADA_SMTP_URL; e-mail channels are skipped")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await ensure_topics(settings.kafka_bootstrap, Topics.ALL)
        redis = Redis.from_url(settings.redis_url)
        producer = make_producer(settings.kafka_bootstrap, idempotent=settings.kafka_idempotent_producer)
        await producer.start()

        async def deadletter(key: bytes, value: bytes) -> None:
            await producer.send_and_wait(Topics.DEADLETTER, key=key, value=value)

        client = httpx.AsyncClient(timeout=settings.webhook_timeout_s)
        router = Router(directory, redis, Deliverer(settings, redis, client, deadletter), settings)
        app.state.redis = redis
        app.state.officers = Officers(directory, redis, settings.escalation_repeats)
        loops: list[Coroutine[Any, Any, None]] = [
            _forever("consumer", lambda: consumer.run(settings.kafka_bootstrap, router, deadletter)),
            _forever("timers", router.run_timers),
            _forever("gauge", lambda: _gauge_loop(redis)),
        ]
        tasks = [asyncio.create_task(loop) for loop in loops]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await client.aclose()
            await producer.stop()
            await redis.aclose()

    app = FastAPI(title="Waspada notify", version="1", lifespan=lifespan)
    app.state.directory = directory
    app.state.settings = settings
    app.state.tokens = by_token

    def office_of(request: Request) -> Office:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        office = office_for_token(by_token, token) if scheme.lower() == "bearer" else None
        if office is None:
            raise HTTPException(401, "missing or unknown office token", headers={"WWW-Authenticate": "Bearer"})
        return office

    CurrentOffice = Annotated[Office, Depends(office_of)]

    def officers(request: Request) -> Officers:
        found: Officers = request.app.state.officers
        return found

    OfficersDep = Annotated[Officers, Depends(officers)]

    def not_found() -> HTTPException:
        return HTTPException(404, "no such escalation in your jurisdiction")

    @app.get("/v1/escalations")
    async def list_escalations(office: CurrentOffice, svc: OfficersDep) -> list[dict[str, Any]]:
        return await svc.list(office, "api")

    @app.get("/v1/escalations/{escalation_id}")
    async def get_escalation(office: CurrentOffice, svc: OfficersDep, escalation_id: str) -> dict[str, Any]:
        return await svc.read(office, escalation_id, "api") or _raise(not_found())

    async def change(
        office: Office, svc: Officers, escalation_id: str, action: Any, body: NoteBody | None
    ) -> dict[str, Any]:
        try:
            record = await svc.change(office, escalation_id, action, "api", body.note if body else None)
        except Conflict as error:
            raise HTTPException(409, str(error)) from None
        return record or _raise(not_found())

    @app.post("/v1/escalations/{escalation_id}/ack")
    async def acknowledge(
        office: CurrentOffice, svc: OfficersDep, escalation_id: str, body: NoteBody | None = None
    ) -> dict[str, Any]:
        return await change(office, svc, escalation_id, "acknowledge", body)

    @app.post("/v1/escalations/{escalation_id}/resolve")
    async def resolve(
        office: CurrentOffice, svc: OfficersDep, escalation_id: str, body: NoteBody | None = None
    ) -> dict[str, Any]:
        return await change(office, svc, escalation_id, "resolve", body)

    @app.get("/v1/audit")
    async def audit_log(office: CurrentOffice, svc: OfficersDep) -> list[dict[str, Any]]:
        """The newest audit entries of this office and the offices below it."""
        return await svc.audit_log(office)

    console.mount(app, directory, by_token)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/metrics")
    async def prometheus_metrics(request: Request) -> Response:
        with contextlib.suppress(Exception):
            await metrics.refresh_unacknowledged(request.app.state.redis)
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app


def _raise(error: HTTPException) -> Any:
    raise error
