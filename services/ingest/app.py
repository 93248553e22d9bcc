"""The ingest FastAPI application: CONTRACT §3's endpoints, thin over ``Intake``.

Bodies are read by hand (``body.read_json``) so that each failure gets the contract's status:
415 not JSON, 413 too large, 400 unparseable, 422 invalid; their schemas are declared for
``/docs`` through ``openapi_extra``. Authentication is a plain function call rather than a
FastAPI dependency: a sync dependency would run in the thread pool on every request.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import orjson
from fastapi import FastAPI, Request, Response
from fastapi.openapi.utils import get_openapi
from prometheus_client import CONTENT_TYPE_LATEST
from redis.asyncio import BlockingConnectionPool, Redis
from redis.exceptions import RedisError
from starlette.types import ASGIApp, Receive, Scope, Send

from schemas.topics import Topics
from services.common.config_files import load_config_or_exit
from services.common.kafka import ensure_topics, make_producer
from services.common.logs import configure_logging, get_logger
from services.common.settings import load_settings
from services.ingest.adapters import metrics
from services.ingest.adapters.kafka import KafkaGate
from services.ingest.adapters.valkey import Admission
from services.ingest.api import openapi
from services.ingest.api.body import Headers, read_json
from services.ingest.core.channels import Channel, ChannelRegistry
from services.ingest.core.validation import Refusal, unavailable
from services.ingest.flows.intake import Intake, Result
from services.ingest.flows.readiness import Readiness
from services.ingest.settings import IngestSettings

log = get_logger("waspada.ingest")
SINGLE_ROUTES = {
    "/v1/tips": ("tip", "Tip"),
    "/v1/departure-anomalies": ("departure_anomaly", "DepartureAnomaly"),
    "/v1/recruiter-sightings": ("recruiter_sighting", "RecruiterSighting"),
}
BATCH_ROUTE = "/v1/events:batch"
ROUTES = frozenset({*SINGLE_ROUTES, BATCH_ROUTE, "/healthz", "/readyz", "/metrics", "/openapi.json", "/docs"})
Handler = Callable[[Channel, Any], Awaitable[dict[str, Any]]]
Answer = tuple[int, bytes, list[tuple[bytes, bytes]]]
Endpoint = Callable[[Scope, Receive], Awaitable[Answer]]
REDIS_CONNECTIONS = 32
MAX_KNOWN_HEADERS = 1024
"""Spellings of valid Authorization headers remembered (``authenticate``): a cap, in case of many."""
JSON_HEADERS = [(b"content-type", b"application/json")]


def _answer(status: int, body: Any, headers: dict[str, str] | None = None) -> Answer:
    extra = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    return status, orjson.dumps(body), JSON_HEADERS + extra


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


def authenticate(registry: ChannelRegistry, headers: Headers, known: dict[bytes, Channel] | None = None) -> Channel:
    """The channel of the bearer token, or a 401 Refusal.

    ``known`` remembers the Authorization headers that named a channel (so, bounded by the
    registry's tokens, never by what clients send): hashing every request's token costs more
    than looking the header up.
    """
    header = headers.get(b"authorization", b"")
    if known is not None and (hit := known.get(header)) is not None:
        return hit
    scheme, _, token = header.decode("latin-1").partition(" ")
    channel = registry.by_token(token.strip()) if scheme.lower() == "bearer" else None
    if channel is None:
        raise Refusal(401, "missing or unknown bearer token", {"WWW-Authenticate": "Bearer"})
    if known is not None and len(known) < MAX_KNOWN_HEADERS:
        known[header] = channel
    return channel


def _where(exc: BaseException) -> str:
    """file:line of the innermost frame: enough to find a bug, without the message (it may hold data)."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return f"{tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}" if tb else "?"


def redis_pool(settings: IngestSettings) -> BlockingConnectionPool:
    """A pool that waits for a free connection (up to the publish timeout) instead of raising
    MaxConnectionsError: requests share connections through ``AutoPipeline``, so a handful is
    plenty, and a wait that runs out is a ConnectionError, answered 503 like any Redis error."""
    return BlockingConnectionPool.from_url(
        settings.redis_url,
        max_connections=REDIS_CONNECTIONS,
        timeout=settings.publish_timeout_s,
        socket_timeout=settings.publish_timeout_s,
        socket_connect_timeout=2,
    )


def create_app(settings: IngestSettings) -> FastAPI:
    """The application, wired to Kafka and Redis by its lifespan."""
    registry = load_config_or_exit(settings.channels, ChannelRegistry)
    state: dict[str, Any] = {}
    known: dict[bytes, Channel] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await ensure_topics(settings.kafka_bootstrap, Topics.ALL, replication=settings.kafka_replication_factor)
        producer = make_producer(
            settings.kafka_bootstrap, idempotent=settings.kafka_idempotent_producer, linger_ms=settings.linger_ms
        )
        await producer.start()
        redis = Redis(connection_pool=redis_pool(settings))
        gate = KafkaGate(producer)
        admission = Admission(redis, inflight_ttl_s=settings.inflight_ttl_s)
        state["intake"] = Intake(
            admission=admission,
            gate=gate,
            pseudonym_key=settings.pseudonym_key.get_secret_value().encode(),
            publish_timeout_s=settings.publish_timeout_s,
            retry_after_s=settings.retry_after_s,
        )
        state["readiness"] = readiness = Readiness(gate, redis)
        probe = asyncio.create_task(readiness.run(settings.ready_probe_interval_s))
        log.info("ingest.started", channels=len(registry.channels))
        try:
            yield
        finally:
            probe.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await probe
            await producer.stop()
            await admission.pipeline.aclose()
            await redis.aclose()
            metrics.worker_stopped()

    app = FastAPI(title="Waspada ingest", version="1", lifespan=lifespan, description=DESCRIPTION)
    fast_routes: dict[str, Endpoint] = {}
    app.state.fast_routes = fast_routes

    async def answer(scope: Scope, receive: Receive, event_type: str, handle: Handler) -> Answer:
        channel_id = "unknown"
        try:
            headers: Headers = dict(scope["headers"])
            channel = authenticate(registry, headers, known)
            channel_id = channel.id
            return _answer(202, await handle(channel, await read_json(headers, receive)))
        except Refusal as refusal:
            if refusal.status in (400, 401, 413, 415):
                metrics.count(event_type, channel_id, "unauthorized" if refusal.status == 401 else "rejected")
            return _answer(refusal.status, {"detail": refusal.detail}, refusal.headers)
        except RedisError as exc:  # Intake maps its own; anything left over is still "retry later", never a 500
            log.warning("ingest.redis_unavailable", error=type(exc).__name__)
            down = unavailable("Redis cannot record the event now", settings.retry_after_s)
            return _answer(503, {"detail": down.detail}, down.headers)
        except Exception as exc:  # a bug: log where, never the message (it may quote the body)
            log.error("ingest.internal_error", error=type(exc).__name__, where=_where(exc))
            return _answer(500, {"detail": "internal error"})

    def add_single(path: str, event_type: str, schema: str) -> None:
        async def handle(channel: Channel, body: Any) -> dict[str, Any]:
            result: Result = await state["intake"].one(channel, event_type, body)
            return result.body()

        async def fast(scope: Scope, receive: Receive) -> Answer:
            return await answer(scope, receive, event_type, handle)

        async def endpoint(request: Request) -> Response:
            return to_response(await fast(request.scope, request.receive))

        fast_routes[path] = fast

        app.post(
            path,
            status_code=202,
            name=f"post_{event_type}",
            summary=f"Kirim satu / send one {schema}",
            responses=openapi.single_responses(),
            openapi_extra=openapi.request_body(schema, openapi.EXAMPLES_BY_NAME[schema]),
        )(endpoint)

    for path, (event_type, schema) in SINGLE_ROUTES.items():
        add_single(path, event_type, schema)

    async def handle_batch(channel: Channel, body: Any) -> dict[str, Any]:
        results: list[Result] = await state["intake"].batch(channel, body)
        return {"results": [r.body() for r in results]}

    async def fast_batch(scope: Scope, receive: Receive) -> Answer:
        return await answer(scope, receive, "unknown", handle_batch)

    @app.post(
        BATCH_ROUTE,
        status_code=202,
        summary="Kirim hingga 1000 peristiwa / send up to 1000 events",
        responses=openapi.batch_responses(),
        openapi_extra=openapi.request_body("BatchRequest", openapi.batch_example()),
    )
    async def post_batch(request: Request) -> Response:
        return to_response(await fast_batch(request.scope, request.receive))

    fast_routes[BATCH_ROUTE] = fast_batch

    @app.get("/healthz", summary="Liveness: the process answers")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(
        "/readyz",
        summary="Readiness: Kafka and Redis answer in time",
        responses={503: {"description": "Tidak siap / not ready", "model": openapi.Problem}},
    )
    async def readyz() -> Response:
        problems = state["readiness"].problems() if "readiness" in state else ["starting"]
        if problems:
            return json_response(503, {"status": "not ready", "detail": "; ".join(problems)})
        return json_response(200, {"status": "ready"})

    @app.get("/metrics", summary="Prometheus metrics")
    async def prometheus_metrics() -> Response:
        return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    install_openapi(app)
    return app


class FastPath:
    """ASGI middleware that answers the four POST routes without FastAPI's routing machinery.

    FastAPI's middleware, routing and dependency layers cost about 175 µs of CPU per request on
    this project's 2-core machine: more than validating, pseudonymising and publishing an event.
    The POST routes take no parameters FastAPI would resolve, so the very same endpoint function
    is called directly; FastAPI still serves and documents everything (its routes answer alike).
    """

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.routes: dict[str, Endpoint] = app.state.fast_routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        endpoint = self.routes.get(scope["path"]) if scope["type"] == "http" and scope["method"] == "POST" else None
        if endpoint is None:
            await self.app(scope, receive, send)
            return
        status, body, headers = await endpoint(scope, receive)
        headers = [*headers, (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def asgi_app(settings: IngestSettings) -> ASGIApp:
    """What ``python -m services.ingest`` serves: the app behind the fast path and the latency metric."""
    return metrics.LatencyMiddleware(FastPath(create_app(settings)), routes=ROUTES)


def from_environment() -> ASGIApp:
    """``asgi_app`` from the ``WASPADA_*`` environment: the factory each uvicorn worker process calls."""
    settings = load_settings(IngestSettings)
    configure_logging(settings.log_level, settings.log_json)
    return asgi_app(settings)


def install_openapi(app: FastAPI) -> None:
    """FastAPI's document plus the request schemas and the bearer scheme the routes declare."""

    def document() -> dict[str, Any]:
        if app.openapi_schema is None:
            doc = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            components = doc.setdefault("components", {})
            components.setdefault("schemas", {}).update(openapi.component_schemas())
            components["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer"}}
            app.openapi_schema = doc
        return app.openapi_schema

    app.openapi = document  # type: ignore[method-assign]


DESCRIPTION = """
Pintu masuk Waspada untuk kanal pelaporan (desa binaan, TPI, kantor paspor, BP3MI).
Waspada's front door for reporting channels (villages, checkpoints, passport offices, BP3MI).

* `202` hanya setelah Kafka mengakui peristiwa (acks=all) / only after Kafka acknowledged the event (acks=all).
* `event_id` adalah kunci idempotensi: kirim ulang dengan id yang sama aman /
  `event_id` is the idempotency key: retrying with the same id is safe (`duplicate`).
* Data pribadi (pelapor, pelaku perjalanan, perekrut) dipseudonimkan di sini /
  personal identifiers (reporter, traveller, recruiter) are pseudonymised here, never echoed back.
"""
