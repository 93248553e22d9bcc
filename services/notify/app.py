"""The notify FastAPI application: the escalation consumer, the timers and the officer API (CONTRACT §6).

Valkey away: the background loops back off and carry on, the officer API and the console answer
503 with ``Retry-After`` (never 500), ``/readyz`` fails and ``/healthz`` stays ok. SIGTERM: stop
fetching, let the deliveries in flight finish and be logged, commit, exit (within
``shutdown_grace_s`` plus a second or two).
"""

import asyncio
import contextlib
import hashlib
import time
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from typing import Annotated, Any

import aiohttp
from aiokafka.errors import KafkaError
from fastapi import Depends, FastAPI, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, ConfigDict, Field
from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import RedisError

from schemas.outcomes import Resolution
from schemas.topics import Topics
from services.common.config_files import load_config_or_exit
from services.common.kafka import ensure_topics, make_producer
from services.common.logs import get_logger
from services.notify.adapters import metrics
from services.notify.adapters.valkey import retry_queue
from services.notify.api import console
from services.notify.core.aio import sleep_unless
from services.notify.core.directory import Directory, EmailChannel, Office
from services.notify.flows import consumer
from services.notify.flows.delivery import Deliverer
from services.notify.flows.officers import Conflict, Officers
from services.notify.flows.redelivery import Status
from services.notify.flows.router import Router
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


REDIS_CONNECTIONS = 64
RETRY_AFTER_S = 5
"""Retry-After of the 503 the officer API and the console answer while Valkey is away."""


def redis_client(url: str) -> Redis:
    """One client for the whole process. Its pool makes a burst wait for a free connection (up to 5 s)
    instead of failing with MaxConnectionsError; a broken connection (Valkey restarted) is
    replaced and the command retried twice at once, so a restart costs one failed command at most."""
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=REDIS_CONNECTIONS,
        timeout=5,
        socket_timeout=5,
        socket_connect_timeout=2,
        retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), 2),
    )
    return Redis(connection_pool=pool)


async def _forever(name: str, make: Any, stopping: asyncio.Event) -> None:
    """Run a background loop until shutdown; if it crashes, log it and start it again (a dead consumer is the
    worst outcome)."""
    while not stopping.is_set():
        try:
            await make()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("notify.background_crashed", task=name)
            await sleep_unless(stopping, 2.0)


class Readiness:
    """``/readyz``: Valkey answers a PING (probed every second) and the process is not shutting down."""

    def __init__(self, redis: Redis, stopping: asyncio.Event) -> None:
        self.redis = redis
        self.stopping = stopping
        self.redis_ok = False

    def problems(self) -> list[str]:
        out = [] if self.redis_ok else ["valkey: not answering"]
        return [*out, "shutting down"] if self.stopping.is_set() else out

    async def run(self) -> None:
        while True:
            try:
                ok = bool(await asyncio.wait_for(self.redis.ping(), 1.0))
            except Exception:
                ok = False
            if ok != self.redis_ok:
                (log.info if ok else log.warning)("notify.valkey_" + ("available" if ok else "unavailable"))
            self.redis_ok = ok
            await asyncio.sleep(1.0)


async def _gauge_loop(redis: Redis) -> None:
    failing = False
    while True:
        try:
            await metrics.refresh_unacknowledged(redis)
            metrics.RETRY_QUEUE.set(await retry_queue.size(redis))
            failing = False
        except RedisError as error:
            if not failing:
                log.warning("notify.gauge_unavailable", error=type(error).__name__)
            failing = True
        await asyncio.sleep(5.0)


def create_app(settings: NotifySettings) -> FastAPI:
    """The application; its lifespan runs the escalation consumer and the timers beside the API."""
    directory = load_config_or_exit(settings.directory, Directory)
    by_token = token_index(directory)
    if not settings.smtp_url and any(isinstance(c, EmailChannel) for o in directory.offices for c in o.channels):
        log.warning("notify.smtp_not_configured", hint="set WASPADA_SMTP_URL; e-mail channels are skipped")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await ensure_topics(settings.kafka_bootstrap, Topics.ALL, replication=settings.kafka_replication_factor)
        redis = redis_client(settings.redis_url)
        producer = make_producer(settings.kafka_bootstrap, idempotent=settings.kafka_idempotent_producer)
        await producer.start()

        async def deadletter(key: bytes, value: bytes) -> None:
            await producer.send_and_wait(Topics.DEADLETTER, key=key, value=value)

        # aiohttp, not httpx: ~3 ms less CPU per webhook POST here, which bounded notify at ~45
        # escalations/s on a core (make bench's end-to-end run, four webhooks per escalation)
        client = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=settings.webhook_timeout_s))
        deliverer = Deliverer(settings, redis, client, deadletter, directory)
        stopping = deliverer.stopping
        router = Router(directory, redis, deliverer, settings)
        app.state.redis = redis

        async def publish_resolution(resolution: Resolution) -> None:
            await producer.send_and_wait(
                Topics.OUTCOMES, key=resolution.desa_code.encode(), value=resolution.model_dump_json().encode()
            )

        app.state.officers = Officers(directory, redis, settings.escalation_repeats, publish_resolution)
        app.state.readiness = readiness = Readiness(redis, stopping)

        def consume() -> Coroutine[Any, Any, None]:
            return consumer.run(settings.kafka_bootstrap, router, deadletter, stopping)

        work: list[Coroutine[Any, Any, None]] = [
            _forever("consumer", consume, stopping),
            _forever("timers", router.run_timers, stopping),
            _forever("retries", deliverer.run_retries, stopping),
        ]
        working = [asyncio.create_task(loop) for loop in work]
        watching = [asyncio.create_task(_gauge_loop(redis)), asyncio.create_task(readiness.run())]
        try:
            yield
        finally:
            await _shut_down(settings, deliverer, working, watching)
            await client.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(producer.stop(), 2.0)
            await redis.aclose()
            await redis.connection_pool.disconnect()

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

    @app.post(
        "/v1/deliveries/{delivery_id}/redeliver",
        status_code=202,
        responses={
            200: {"description": "delivered already (by an earlier redelivery): nothing sent"},
            404: {"description": "no dead-lettered delivery of this id for this office or the offices below it"},
        },
    )
    async def redeliver(office: CurrentOffice, svc: OfficersDep, delivery_id: str) -> JSONResponse:
        """Send a dead-lettered delivery again, under the same webhook-id: 202 with its new status (retrying)."""
        done = await svc.redeliver(office, delivery_id, "api")
        if done is None:
            raise HTTPException(404, "no dead-lettered delivery of this id in your jurisdiction")
        return JSONResponse(done.answer(), status_code=200 if done.status is Status.DELIVERED else 202)

    @app.get("/v1/audit")
    async def audit_log(office: CurrentOffice, svc: OfficersDep) -> list[dict[str, Any]]:
        """The newest audit entries of this office and the offices below it."""
        return await svc.audit_log(office)

    pages = console.mount(app, directory, by_token)

    def unavailable(request: Request, dependency: str, error: Exception, detail: str) -> Response:
        """A dependency away: retry later (503), never a 500; the console says so in the officer's language."""
        log.warning(f"notify.{dependency}_unavailable", path=request.url.path, error=type(error).__name__)
        headers = {"Retry-After": str(RETRY_AFTER_S)}
        if request.url.path.startswith("/console"):
            page = pages.page(request, "error.html", 503, message=pages.t(request)("unavailable"))
            page.headers.update(headers)
            return page
        return JSONResponse({"detail": detail}, status_code=503, headers=headers)

    @app.exception_handler(RedisError)
    async def valkey_unavailable(request: Request, error: RedisError) -> Response:
        return unavailable(request, "valkey", error, "the escalation store is not answering; retry later")

    @app.exception_handler(KafkaError)
    async def kafka_unavailable(request: Request, error: KafkaError) -> Response:
        """A resolution Kafka did not take is not a resolution: nothing changed."""
        detail = "the event log (Kafka) is not answering; nothing was changed, retry later"
        return unavailable(request, "kafka", error, detail)

    @app.get("/healthz", summary="Liveness: the process answers")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(
        "/readyz",
        summary="Readiness: Valkey answers and the process is not shutting down",
        responses={503: {"description": "not ready, with the reason"}},
    )
    async def readyz(request: Request) -> JSONResponse:
        found: Readiness | None = getattr(request.app.state, "readiness", None)
        problems = found.problems() if found else ["starting"]
        if problems:
            return JSONResponse({"status": "not ready", "detail": "; ".join(problems)}, status_code=503)
        return JSONResponse({"status": "ready"})

    @app.get("/metrics")
    async def prometheus_metrics(request: Request) -> Response:
        with contextlib.suppress(Exception):
            await metrics.refresh_unacknowledged(request.app.state.redis)
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app


async def _shut_down(
    settings: NotifySettings,
    deliverer: Deliverer,
    working: list[asyncio.Task[None]],
    watching: list[asyncio.Task[None]],
) -> None:
    """Stop fetching and claiming; the consumer finishes its batch (a delivery that would wait for a retry
    is parked) and commits; every attempt in flight ends and is logged. Bounded by ``shutdown_grace_s``:
    what is still running then is cancelled, except attempts, which cannot be cut between a 2xx and
    its log entry (they are waited for one second more, then left to die with the process)."""
    started = time.monotonic()
    deliverer.stopping.set()
    log.info("notify.stopping", grace_s=settings.shutdown_grace_s)
    _, late = await asyncio.wait(working, timeout=settings.shutdown_grace_s)
    for task in late:
        task.cancel()
    if late:
        await asyncio.wait(late, timeout=1.0)
    unfinished = await deliverer.drain(max(1.0, settings.shutdown_grace_s - (time.monotonic() - started)))
    for task in watching:
        task.cancel()
    await asyncio.wait(watching, timeout=1.0)
    log.info(
        "notify.stopped",
        seconds=round(time.monotonic() - started, 2),
        cancelled=len(late),
        unfinished_attempts=unfinished,
    )


def _raise(error: HTTPException) -> Any:
    raise error
