"""The ingest FastAPI application: CONTRACT §3's endpoints.

Bodies are read and validated by hand rather than by FastAPI's body parameter so that each
failure gets the contract's status: 415 not JSON, 413 too large, 400 unparseable, 422 invalid.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import orjson
from fastapi import Depends, FastAPI, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, TypeAdapter, ValidationError
from redis.asyncio import Redis

from schemas.events import DepartureAnomaly, InputEvent, RecruiterSighting, Tip
from schemas.topics import Topics
from services.common.config_files import load_config_or_exit
from services.common.kafka import ensure_topics, make_producer
from services.common.logs import get_logger
from services.common.pseudonym import pseudonymise
from services.ingest import idempotency, metrics
from services.ingest.channels import Channel, ChannelRegistry
from services.ingest.publisher import KafkaUnavailable, publish
from services.ingest.settings import IngestSettings

MAX_BODY = 1024 * 1024
log = get_logger("waspada.ingest")


class Accepted(BaseModel):
    event_id: str
    status: str


def create_app(settings: IngestSettings) -> FastAPI:
    """The application, wired to Kafka and Redis by its lifespan."""
    registry = load_config_or_exit(settings.channels, ChannelRegistry)
    key = settings.pseudonym_key.get_secret_value().encode()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await ensure_topics(settings.kafka_bootstrap, Topics.ALL)
        producer = make_producer(settings.kafka_bootstrap, idempotent=settings.kafka_idempotent_producer)
        await producer.start()
        app.state.producer = producer
        app.state.redis = Redis.from_url(settings.redis_url)
        log.info("ingest.started", channels=len(registry.channels))
        try:
            yield
        finally:
            await producer.stop()
            await app.state.redis.aclose()

    app = FastAPI(title="Waspada ingest", version="1", lifespan=lifespan)

    def channel_of(request: Request) -> Channel:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        channel = registry.by_token(token.strip()) if scheme.lower() == "bearer" else None
        if channel is None:
            raise HTTPException(401, "missing or unknown bearer token", headers={"WWW-Authenticate": "Bearer"})
        return channel

    CurrentChannel = Annotated[Channel, Depends(channel_of)]

    async def accept(request: Request, event: InputEvent, channel: Channel) -> str:
        if not channel.may_send(event.type) or not channel.covers(event.desa_code):
            metrics.EVENTS.labels(event.type, channel.id, "forbidden").inc()
            raise HTTPException(403, f"channel {channel.id} may not send {event.type} for {event.desa_code}")
        redis: Redis = request.app.state.redis
        if await idempotency.already_published(redis, event.event_id):
            metrics.EVENTS.labels(event.type, channel.id, "duplicate").inc()
            return "duplicate"
        try:
            with metrics.PUBLISH_SECONDS.time():
                await publish(
                    request.app.state.producer,
                    pseudonymise(event, key),
                    channel=channel.id,
                    timeout=settings.publish_timeout_s,
                )
        except KafkaUnavailable as exc:
            metrics.EVENTS.labels(event.type, channel.id, "unavailable").inc()
            log.warning("ingest.kafka_unavailable", event_id=str(event.event_id), error=str(exc))
            raise HTTPException(503, "Kafka cannot take the event now", headers={"Retry-After": "5"}) from exc
        await idempotency.mark_published(redis, event.event_id)
        metrics.EVENTS.labels(event.type, channel.id, "accepted").inc()
        return "accepted"

    def single(model: type[Tip] | type[DepartureAnomaly] | type[RecruiterSighting], path: str) -> None:
        adapter: TypeAdapter[Any] = TypeAdapter(model)

        @app.post(path, status_code=202, response_model=Accepted, name=f"post_{model.__name__}")
        async def endpoint(request: Request, channel: CurrentChannel) -> JSONResponse:
            raw = await json_body(request)
            try:
                event = adapter.validate_python(raw)
            except ValidationError as exc:
                metrics.EVENTS.labels(model.__name__.lower(), channel.id, "rejected").inc()
                return JSONResponse(status_code=422, content={"detail": _errors(exc)})
            status = await accept(request, event, channel)
            return JSONResponse(status_code=202, content={"event_id": str(event.event_id), "status": status})

    single(Tip, "/v1/tips")
    single(DepartureAnomaly, "/v1/departure-anomalies")
    single(RecruiterSighting, "/v1/recruiter-sightings")

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz(request: Request) -> JSONResponse:
        try:
            await request.app.state.redis.ping()
        except Exception:
            return JSONResponse(status_code=503, content={"status": "redis unavailable"})
        return JSONResponse(content={"status": "ready"})

    @app.get("/metrics")
    async def prometheus_metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app


async def json_body(request: Request) -> Any:
    """The parsed JSON body, or the contract's 415 / 413 / 400."""
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
        raise HTTPException(415, "body must be application/json")
    body = await request.body()
    if len(body) > MAX_BODY:
        raise HTTPException(413, "body over 1 MiB")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise HTTPException(400, f"unparseable JSON: {exc}") from None


def _errors(exc: ValidationError) -> list[dict[str, Any]]:
    """FastAPI's ``detail`` shape, naming each field under ``body``; inputs are not echoed back."""
    return [
        {"type": e["type"], "loc": ["body", *e["loc"]], "msg": e["msg"]}
        for e in exc.errors(include_url=False, include_input=False)
    ]
