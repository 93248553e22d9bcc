"""The notify FastAPI application: the escalation consumer and the officer API (CONTRACT §6)."""

import asyncio
import contextlib
import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from redis.asyncio import Redis

from schemas.topics import Topics
from services.common.config_files import load_config_or_exit
from services.common.kafka import ensure_topics
from services.notify import consumer, store
from services.notify.directory import Directory, Office
from services.notify.settings import NotifySettings


def create_app(settings: NotifySettings) -> FastAPI:
    """The application; its lifespan runs the escalation consumer beside the API."""
    directory = load_config_or_exit(settings.directory, Directory)
    by_token = {o.token_sha256: o for o in directory.offices}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await ensure_topics(settings.kafka_bootstrap, Topics.ALL)
        app.state.redis = Redis.from_url(settings.redis_url)
        task = asyncio.create_task(
            consumer.run(settings.kafka_bootstrap, directory, app.state.redis, settings.webhook_timeout_s)
        )
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await app.state.redis.aclose()

    app = FastAPI(title="Waspada notify", version="1", lifespan=lifespan)

    def office_of(request: Request) -> Office:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        office = (
            by_token.get(hashlib.sha256(token.strip().encode()).hexdigest()) if scheme.lower() == "bearer" else None
        )
        if office is None:
            raise HTTPException(401, "missing or unknown office token", headers={"WWW-Authenticate": "Bearer"})
        return office

    CurrentOffice = Annotated[Office, Depends(office_of)]

    def visible_ids(office: Office) -> list[str]:
        """The office itself and, for a Polda or Kanwil, its children."""
        return [office.id, *(o.id for o in directory.offices if o.parent == office.id)]

    async def visible(request: Request, office: Office, escalation_id: str) -> dict[str, Any]:
        record = await store.get(request.app.state.redis, escalation_id)
        if record is None or not set(record["offices"]) & set(visible_ids(office)):
            raise HTTPException(404, "no such escalation in your jurisdiction")
        return record

    @app.get("/v1/escalations")
    async def list_escalations(request: Request, office: CurrentOffice) -> list[dict[str, Any]]:
        return await store.for_offices(request.app.state.redis, visible_ids(office))

    @app.get("/v1/escalations/{escalation_id}")
    async def get_escalation(request: Request, office: CurrentOffice, escalation_id: str) -> dict[str, Any]:
        return await visible(request, office, escalation_id)

    @app.post("/v1/escalations/{escalation_id}/ack")
    async def acknowledge(request: Request, office: CurrentOffice, escalation_id: str) -> dict[str, Any]:
        await visible(request, office, escalation_id)
        return await store.set_status(request.app.state.redis, escalation_id, "acknowledged", office.id) or {}

    @app.post("/v1/escalations/{escalation_id}/resolve")
    async def resolve(request: Request, office: CurrentOffice, escalation_id: str) -> dict[str, Any]:
        await visible(request, office, escalation_id)
        return await store.set_status(request.app.state.redis, escalation_id, "resolved", office.id) or {}

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/metrics")
    async def prometheus_metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app
