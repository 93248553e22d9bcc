"""Ingest's composition root: the channel registry read, the adapters built, the intake wired, the routes mounted.

``create_app`` is the FastAPI application; ``asgi_app`` puts the fast path and the latency metric
in front of it (what ``python -m services.ingest`` serves).
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from redis.asyncio import Redis
from starlette.types import ASGIApp

from schemas.topics import Topics
from services.common.config_files import load_config_or_exit
from services.common.kafka import ensure_topics, make_producer
from services.common.logs import configure_logging, get_logger
from services.common.settings import load_settings
from services.ingest.adapters import metrics
from services.ingest.adapters.kafka import KafkaGate
from services.ingest.adapters.valkey import Admission, redis_pool
from services.ingest.api import openapi, routes
from services.ingest.api.fast_path import FastPath
from services.ingest.core.channels import ChannelRegistry
from services.ingest.flows.intake import Intake
from services.ingest.flows.readiness import Readiness
from services.ingest.settings import IngestSettings

log = get_logger("waspada.ingest")


def create_app(settings: IngestSettings) -> FastAPI:
    """The application, wired to Kafka and Redis by its lifespan."""
    registry = load_config_or_exit(settings.channels, ChannelRegistry)
    posts = routes.Posts(registry, settings.retry_after_s)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with run(app, settings, posts):
            log.info("ingest.started", channels=len(registry.channels))
            yield

    app = FastAPI(title="Waspada ingest", version="1", lifespan=lifespan, description=openapi.DESCRIPTION)
    routes.install(app, posts)
    openapi.install_openapi(app)
    return app


@asynccontextmanager
async def run(app: FastAPI, settings: IngestSettings, posts: routes.Posts) -> AsyncIterator[None]:
    """Kafka and Valkey connected, the intake and the readiness probe running; all stopped after."""
    await ensure_topics(settings.kafka_bootstrap, Topics.ALL, replication=settings.kafka_replication_factor)
    producer = make_producer(
        settings.kafka_bootstrap, idempotent=settings.kafka_idempotent_producer, linger_ms=settings.linger_ms
    )
    await producer.start()
    redis = Redis(connection_pool=redis_pool(settings.redis_url, settings.publish_timeout_s))
    gate = KafkaGate(producer)
    admission = Admission(redis, inflight_ttl_s=settings.inflight_ttl_s)
    posts.intake = Intake(
        admission=admission,
        gate=gate,
        pseudonym_key=settings.pseudonym_key.get_secret_value().encode(),
        publish_timeout_s=settings.publish_timeout_s,
        retry_after_s=settings.retry_after_s,
    )
    app.state.readiness = readiness = Readiness(gate, redis)
    probe = asyncio.create_task(readiness.run(settings.ready_probe_interval_s))
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


def asgi_app(settings: IngestSettings) -> ASGIApp:
    """What ``python -m services.ingest`` serves: the app behind the fast path and the latency metric."""
    return metrics.LatencyMiddleware(FastPath(create_app(settings)), routes=routes.ROUTES)


def from_environment() -> ASGIApp:
    """``asgi_app`` from the ``WASPADA_*`` environment: the factory each uvicorn worker process calls."""
    settings = load_settings(IngestSettings)
    configure_logging(settings.log_level, settings.log_json)
    return asgi_app(settings)
