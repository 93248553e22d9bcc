"""Notify's composition root: the adapters built, the flows wired to them, the API mounted (CONTRACT §6).

The lifespan runs the escalation consumer, the acknowledgement timers and the retry worker beside
the API (each restarted if it crashes), and on SIGTERM ends them in order (``flows/background.py``).
Valkey away: the loops back off and carry on, the officer API and the console answer 503 with
``Retry-After`` (``api/problems.py``), ``/readyz`` fails and ``/healthz`` stays ok.
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiokafka import ConsumerRecord
from fastapi import FastAPI

from schemas.topics import Topics
from services.common.config_files import load_config_or_exit
from services.common.kafka import ensure_topics
from services.common.logs import get_logger
from services.notify.adapters import kafka, webhook
from services.notify.adapters.valkey import client as valkey
from services.notify.api import console, officer_api, probes, problems
from services.notify.api.pages import Pages
from services.notify.core.directory import Directory, EmailChannel
from services.notify.core.tokens import token_index
from services.notify.flows import background, consumer
from services.notify.flows.delivery import Deliverer
from services.notify.flows.officers import Officers
from services.notify.flows.readiness import Readiness
from services.notify.flows.router import Router
from services.notify.settings import NotifySettings

log = get_logger("waspada.notify")


def create_app(settings: NotifySettings) -> FastAPI:
    """The application; what it needs at run time is built by its lifespan (``run``)."""
    directory = load_config_or_exit(settings.directory, Directory)
    if not settings.smtp_url and any(isinstance(c, EmailChannel) for o in directory.offices for c in o.channels):
        log.warning("notify.smtp_not_configured", hint="set WASPADA_SMTP_URL; e-mail channels are skipped")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with run(app, settings, directory):
            yield

    app = FastAPI(title="Waspada notify", version="1", lifespan=lifespan)
    app.state.directory = directory
    app.state.settings = settings
    app.state.tokens = token_index(directory)
    pages = Pages()
    for router in (officer_api.router, probes.router):
        app.include_router(router)
    console.mount(app, pages)
    problems.install(app, pages)
    return app


@asynccontextmanager
async def run(app: FastAPI, settings: NotifySettings, directory: Directory) -> AsyncIterator[None]:
    """Adapters up, flows wired and started, their state on ``app.state`` for the API; all stopped after."""
    await ensure_topics(settings.kafka_bootstrap, Topics.ALL, replication=settings.kafka_replication_factor)
    redis = valkey.redis_client(settings.redis_url)
    events = kafka.EventLog(settings.kafka_bootstrap, idempotent=settings.kafka_idempotent_producer)
    await events.start()
    client = webhook.client_session(settings.webhook_timeout_s)
    deliverer = Deliverer(settings, redis, client, events.dead_letter, directory)
    stopping = deliverer.stopping
    router = Router(directory, redis, deliverer, settings)
    app.state.redis = redis
    app.state.officers = Officers(directory, redis, settings.escalation_repeats, events.resolution)
    app.state.readiness = readiness = Readiness(redis, stopping)

    async def handle(messages: list[ConsumerRecord]) -> None:
        await consumer.handle_batch(messages, router, events.dead_letter)

    async def consume() -> None:
        await kafka.consume(settings.kafka_bootstrap, handle, stopping)

    loops = {"consumer": consume, "timers": router.run_timers, "retries": deliverer.run_retries}
    working = [asyncio.create_task(background.forever(name, loop, stopping)) for name, loop in loops.items()]
    watching = [asyncio.create_task(background.gauges(redis)), asyncio.create_task(readiness.run())]
    try:
        yield
    finally:
        await background.shut_down(settings.shutdown_grace_s, deliverer, working, watching)
        await client.close()
        await events.stop()
        await valkey.close(redis)
