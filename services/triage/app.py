"""The Faust application: input topics → validate → dedup → score → incident → escalation.

Source topics carry raw bytes (``value_serializer="raw"``): we decode and validate ourselves so
that a poison message becomes a dead-letter record instead of crashing the agent.
"""

from datetime import datetime
from typing import Any

import faust
from prometheus_client import CONTENT_TYPE_LATEST, Counter, generate_latest
from pydantic import ValidationError

from schemas.events import DepartureAnomaly, RecruiterSighting, Tip, event_adapter
from schemas.topics import PARTITIONS, Topics
from services.triage import deadletter
from services.triage.incidents import Incident
from services.triage.scoring import score_event
from services.triage.settings import TriageSettings

EVENTS = Counter("waspada_triage_events_total", "Events triaged, by type and outcome", ["type", "outcome"])
ESCALATIONS = Counter("waspada_escalations_total", "Escalation revisions published, by severity", ["severity"])
TYPE_OF_TOPIC = {topic: kind for kind, topic in Topics.BY_EVENT_TYPE.items()}


def build_app(settings: TriageSettings) -> faust.App:
    """A Faust app bound to the settings' Kafka, with the agent and the tables."""
    app = faust.App(
        settings.triage_app_id,
        broker=[f"kafka://{host}" for host in settings.kafka_bootstrap.split(",")],
        store="memory://",
        topic_partitions=PARTITIONS,
        broker_rebalance_timeout=4,
        broker_session_timeout=6,
        broker_heartbeat_interval=1,
        web_port=settings.triage_port,
        web_host=settings.triage_host,
        web_bind=settings.triage_host,
        web_in_thread=False,
        datadir=str(settings.triage_data_dir),
        producer_acks=-1,
        producer_enable_idempotence=settings.kafka_idempotent_producer,
        processing_guarantee="at_least_once",
        topic_allow_declare=True,
    )
    source = app.topic(
        *Topics.INPUTS,
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
        partitions=PARTITIONS,
    )
    escalations = app.topic(Topics.ESCALATIONS, key_serializer="raw", value_serializer="raw", partitions=PARTITIONS)
    dead = app.topic(Topics.DEADLETTER, key_serializer="raw", value_serializer="raw", partitions=PARTITIONS)
    seen = app.Table("seen-events", default=None, partitions=PARTITIONS)
    incidents = app.Table("incidents", default=None, partitions=PARTITIONS)

    async def to_deadletter(message: Any, reason: str, exc: Exception) -> None:
        await dead.send(
            key=message.key,
            value=deadletter.record(
                stage="triage",
                reason=reason,
                topic=message.topic,
                partition=message.partition,
                offset=message.offset,
                errors=_errors(exc),
            ),
        )

    async def handle(message: Any) -> str:
        kind = TYPE_OF_TOPIC.get(message.topic, "unknown")
        try:
            parsed = event_adapter.validate_json(message.value)
            if parsed.type != kind:
                raise ValueError(f"a {parsed.type} on the {message.topic} topic")
        except (ValidationError, ValueError) as exc:
            await to_deadletter(message, "invalid", exc)
            return "invalid"
        if seen.get(str(parsed.event_id)) is not None:
            return "duplicate"
        seen[str(parsed.event_id)] = True
        return await _apply(parsed, _received_at(message.headers), incidents, escalations)

    @app.agent(source)
    async def triage(stream: faust.StreamT[bytes]) -> None:
        async for event in stream.events():
            message = event.message
            try:
                outcome = await handle(message)
            except Exception as exc:  # a bug must not stop the stream: park the message, go on
                await to_deadletter(message, "processing_error", exc)
                outcome = "error"
            EVENTS.labels(TYPE_OF_TOPIC.get(message.topic, "unknown"), outcome).inc()

    @app.page("/metrics")
    async def metrics(web: Any, request: Any) -> Any:
        # aiohttp refuses a charset inside content_type: pass the bare media type
        return web.bytes(generate_latest(), content_type=CONTENT_TYPE_LATEST.split(";")[0])

    @app.page("/healthz")
    async def healthz(web: Any, request: Any) -> Any:
        return web.json({"status": "ok"})

    return app


async def _apply(
    event: Tip | DepartureAnomaly | RecruiterSighting,
    received_at: datetime | None,
    incidents: Any,
    escalations: faust.TopicT,
) -> str:
    """Fold the event into its village's incident; publish a revision when severity rose."""
    stored = incidents.get(event.desa_code)
    incident = Incident.model_validate(stored) if stored else Incident.open(event.desa_code, event.occurred_at)
    rose = incident.add(event.type, event.occurred_at, score_event(event), received_at)
    incidents[event.desa_code] = incident.to_table()
    if not rose:
        return "recorded"
    escalation = incident.escalation()
    await escalations.send(key=event.desa_code.encode(), value=escalation.model_dump_json().encode())
    ESCALATIONS.labels(escalation.severity.value).inc()
    return "escalated"


def _received_at(headers: Any) -> datetime | None:
    for name, value in headers.items() if isinstance(headers, dict) else headers or []:
        if name == "waspada-received-at":
            return datetime.fromisoformat(value.decode())
    return None


def _errors(exc: Exception) -> list[dict[str, Any]]:
    if isinstance(exc, ValidationError):
        return [
            {"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]}
            for e in exc.errors(include_url=False, include_input=False)
        ]
    return [{"loc": [], "msg": str(exc), "type": "value_error"}]
