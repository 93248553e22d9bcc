"""The Faust application: input topics → validate → de-identify → dedup → score → incident → escalation.

Source topics carry raw bytes (``value_serializer="raw"``): we decode and validate ourselves so
that a poison message becomes a dead-letter record instead of crashing the agent. The agent runs
with concurrency 1 (it writes a table) and keeps one table value per village.

Ordering that makes a crash safe (at-least-once, no transactions on the embedded broker):
the live village states are written back to the table's changelog before any offset commit and
before an escalation that names them (``villages.py``); a revision is sent only once its state's
changelog record is acknowledged, and a village's next event waits for its revision in flight
(``publishing.py``). So a revision that reached the topic is always in the recovered state; if it
did not, the replayed trigger finds its state and sends the stored revision again, byte for byte
(or, as the three input topics are not re-read in their original cross-topic order, the village's
next revision sends it first). No revision number is ever reused for different content, and none
is skipped.

Offsets: an offset is committed only once the states of the events before it are written and
acknowledged, and their revisions too (``checkpoint.py``, the one place that orders it): Faust's
own barrier does not guarantee that.
"""

import gc
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import faust
from prometheus_client import generate_latest
from pydantic import ValidationError

from schemas.events import InputEvent, event_adapter
from schemas.outcomes import Resolution
from schemas.regions import region_table
from schemas.topics import PARTITIONS, Topics
from services.common.deidentify import deidentify, has_clear_personal_data
from services.common.faust_producer import faust_producer
from services.common.logs import get_logger
from services.triage import deadletter, metrics
from services.triage.checkpoint import Checkpoint
from services.triage.consumer import TriageApp
from services.triage.decide import Decision, decide
from services.triage.faust_patches import committed_offset
from services.triage.health import Watchdog
from services.triage.incidents import Arrival
from services.triage.lifecycle import close
from services.triage.outbox import Outbox
from services.triage.policy import Policy, load_policy
from services.triage.publishing import RevisionLost, Revisions
from services.triage.recovery import keep_queue_through_recovery, read_changelog_to_its_end, until_recovered
from services.triage.settings import TriageSettings
from services.triage.state import VillageState
from services.triage.villages import Villages, VillageTable

METRICS_CONTENT_TYPE = "text/plain; version=0.0.4"
TYPE_OF_TOPIC = {topic: kind for kind, topic in Topics.BY_EVENT_TYPE.items()}
SOURCES = (*Topics.INPUTS, Topics.OUTCOMES)
"""What the agent reads: the three input topics and the resolutions, all keyed and partitioned alike."""
KIND_OF_SOURCE = {**TYPE_OF_TOPIC, Topics.OUTCOMES: "resolution"}
log = get_logger(__name__)


class Rejected(Exception):
    """A message triage cannot take; ``reason`` labels the dead-letter record and the metric."""

    def __init__(self, reason: str, cause: Exception) -> None:
        super().__init__(reason)
        self.reason = reason
        self.cause = cause


def build_app(settings: TriageSettings, policy: Policy | None = None) -> faust.App:
    """A Faust app bound to the settings' Kafka, with the agent, the village table and the web views."""
    policy = policy or load_policy(settings.policy)
    region_table()  # load the 83,000 villages now, not inside the first event
    key = settings.pseudonym_key.get_secret_value().encode()
    app = TriageApp(
        settings.triage_app_id,
        broker=[f"kafka://{host}" for host in settings.kafka_bootstrap.split(",")],
        store="memory://",
        topic_partitions=PARTITIONS,
        topic_replication_factor=settings.kafka_replication_factor,  # its changelog and leader topics
        broker_rebalance_timeout=4,
        broker_session_timeout=6,
        broker_heartbeat_interval=1,
        web_port=settings.triage_port,
        web_host=settings.triage_host,
        web_bind=settings.triage_host,
        web_in_thread=False,
        web_tables_enabled=False,  # the table views would expose village state
        datadir=str(settings.triage_data_dir),
        producer_acks=-1,
        processing_guarantee="at_least_once",
        topic_allow_declare=True,
    )
    # Faust has no idempotence setting: its own producer (dead letters, re-keyed records) gets a class that asks for it
    app.transport.Producer = faust_producer(settings.kafka_idempotent_producer)  # type: ignore[misc]
    raw: dict[str, Any] = {"key_type": bytes, "value_type": bytes, "key_serializer": "raw", "value_serializer": "raw"}
    source = app.topic(*SOURCES, partitions=PARTITIONS, **raw)
    by_topic = {name: app.topic(name, partitions=PARTITIONS, **raw) for name in SOURCES}
    dead = app.topic(Topics.DEADLETTER, key_serializer="raw", value_serializer="raw", partitions=PARTITIONS)
    # key_type/value_type bytes make the changelog raw both ways (a schema= only covers writes)
    table = VillageTable(
        app, name="villages", default=None, beacon=app.tables.beacon, partitions=PARTITIONS, key_type=bytes,
        value_type=bytes,
    )  # fmt: skip
    app.tables.add(table)
    outbox = Outbox(settings.kafka_bootstrap, settings.kafka_idempotent_producer)
    villages = Villages(table, outbox)
    revisions = Revisions(outbox, Topics.ESCALATIONS)
    checkpoint = Checkpoint(villages, outbox, revisions)
    checkpoint.hook_into(app)
    read_changelog_to_its_end(app, settings.kafka_bootstrap)
    watchdog = Watchdog(settings.triage_stall_after_s)
    progress: dict[Any, int] = {}

    async def to_deadletter(message: Any, reason: str, exc: Exception) -> None:
        body = deadletter.record(
            stage="triage",
            reason=reason,
            topic=message.topic,
            partition=message.partition,
            offset=message.offset,
            errors=_errors(exc),
        )
        await (await dead.send(key=message.key, value=body))

    @app.on_before_shutdown.connect
    async def close_outbox(sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
        await outbox.stop()  # after the consumer's last commit, which used it

    @app.on_partitions_revoked.connect
    async def after_revocation(sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
        await villages.forget()  # states of partitions now elsewhere are read from the table when they come back
        revisions.forget_confirmed()  # another worker may write these villages' revisions meanwhile

    async def rekey(message: Any, desa_key: bytes) -> str:
        """Keyed wrongly by a direct publisher: send it again under its village's key, never drop it."""
        await (await by_topic[message.topic].send(key=desa_key, value=message.value, headers=message.headers))
        return "rekeyed"

    async def handle(message: Any) -> str:
        if message.topic == Topics.OUTCOMES:
            return await handle_resolution(message)
        event = _parse(message)
        desa_key = event.desa_code.encode()
        if message.key != desa_key:
            return await rekey(message, desa_key)
        if has_clear_personal_data(event):  # a direct publisher's record: ingest's records never are
            event = _deidentified(event, key)
        arrival = _arrival(message)
        return await apply(message, desa_key, lambda state: decide(policy, state, event, arrival))

    async def handle_resolution(message: Any) -> str:
        resolution = _parse_resolution(message)
        desa_key = resolution.desa_code.encode()
        if message.key != desa_key:
            return await rekey(message, desa_key)
        arrival = _arrival(message)
        return await apply(message, desa_key, lambda state: close(policy, state, resolution, arrival))

    async def apply(message: Any, desa_key: bytes, step: Callable[[VillageState], Decision]) -> str:
        """One step on the village's state, then its revision (if any) once the state is durable."""
        await revisions.idle(desa_key)  # at most one unacknowledged revision per village
        previous = villages.get(desa_key).latest_revision()
        decision = villages.change(desa_key, step)
        if decision.state is not None:
            villages.changed(desa_key, message.partition)
        if decision.assessment is not None:
            metrics.SCORES.observe(decision.assessment.score)
        if decision.escalation is not None and decision.body is not None:
            written = await villages.write(desa_key)
            revisions.publish(desa_key, decision.body, decision.escalation.severity.value, written, previous)
        elif decision.replay is not None:
            revisions.replay(desa_key, decision.replay)
        elif previous is not None and decision.state is not None and decision.state.incident is None:
            revisions.confirm(desa_key, previous)  # the closed incident's last revision is on the topic
        return decision.outcome

    @app.agent(source, concurrency=1)
    async def triage(stream: faust.StreamT[bytes]) -> None:
        keep_queue_through_recovery(app, stream)
        async for item in stream.events():
            message = item.message
            if app.in_recovery and not await until_recovered(app, message):
                continue  # a rebalance began: given back unprocessed, read again from the committed offset
            try:
                outcome = await handle(message)
            except RevisionLost as exc:  # after the producer's own retries: restart from the last commit
                log.error("triage_stopping", reason="revision_send_failed", error=type(exc.__cause__).__name__)
                await app.crash(exc)
                return
            except Rejected as exc:
                await to_deadletter(message, exc.reason, exc.cause)
                outcome = "invalid"
            except Exception as exc:  # a bug must not stop the stream: park the message, go on
                log.error("triage_failed", error=type(exc).__name__, topic=message.topic, offset=message.offset)
                await to_deadletter(message, "processing_error", exc)
                outcome = "error"
            metrics.EVENTS.labels(KIND_OF_SOURCE.get(message.topic, "unknown"), outcome).inc()
            progress[message.tp] = message.offset + 1
            watchdog.progressed()

    @app.task  # type: ignore[untyped-decorator]
    async def announce() -> None:
        # everything alive now lives as long as the worker (the 83,000 villages of the region table,
        # the policy, Faust's services): out of the collector's generations, so a full collection no
        # longer walks them (generation-2 passes of 91-112 ms were seen in triage before this)
        gc.collect()
        gc.freeze()
        log.info("triage_started", app_id=settings.triage_app_id, rules=len(policy.rules), partitions=PARTITIONS)

    @app.timer(interval=1.0)  # type: ignore[untyped-decorator]
    async def measure_lag() -> None:
        watchdog.observe_lag(_lag(app, progress))
        metrics.STALLED.set(0 if watchdog.healthy() else 1)

    @app.page("/metrics")
    async def metrics_page(web: Any, request: Any) -> Any:
        # aiohttp refuses a charset inside content_type; the exposition format is ASCII anyway
        return web.bytes(generate_latest(), content_type=METRICS_CONTENT_TYPE)

    @app.page("/healthz")
    async def healthz(web: Any, request: Any) -> Any:
        body = {
            "lag": watchdog.lag,
            "stalled_for_s": round(watchdog.stalled_for(), 1),
            "in_recovery": bool(app.in_recovery),
            "revisions_in_flight": revisions.in_flight(),
            "input_partitions": _input_partitions(app),
            "commit_barrier": checkpoint.report(),
        }
        if watchdog.healthy():
            return web.json({"status": "ok", **body})
        return web.json({"status": "stalled", **body}, status=503)

    return app


def _input_partitions(app: faust.App) -> int:
    """How many input partitions this worker holds (0 before its consumer starts)."""
    try:
        return sum(1 for tp in app.consumer.assignment() if tp.topic in SOURCES)
    except Exception:  # ConsumerNotStarted
        return 0


def _deidentified(event: InputEvent, key: bytes) -> InputEvent:
    """``event`` made safe to store and score; counted when it did hold personal data in clear.

    The pre-check also passes texts with long digit runs that are no identifier ("Rp 15.000.000"):
    those are scrubbed in vain and not counted as pseudonymised.
    """
    clear = event.has_clear_identifiers()
    safe, found = deidentify(event, key)
    metrics.SCRUBBED.add(found)
    if clear or found:
        metrics.PSEUDONYMISED.labels(event.type).inc()
    return safe


def _parse(message: Any) -> InputEvent:
    kind = TYPE_OF_TOPIC.get(message.topic, "unknown")
    try:
        event = event_adapter.validate_json(message.value or b"")
    except ValidationError as exc:
        unparseable = any(e["type"] == "json_invalid" for e in exc.errors())
        raise Rejected("unparseable" if unparseable else "invalid", exc) from None
    if event.type != kind:
        raise Rejected("wrong_topic", ValueError(f"a {event.type} on the {message.topic} topic"))
    return event


def _parse_resolution(message: Any) -> Resolution:
    try:
        return Resolution.model_validate_json(message.value or b"")
    except ValidationError as exc:
        unparseable = any(e["type"] == "json_invalid" for e in exc.errors())
        raise Rejected("unparseable" if unparseable else "invalid", exc) from None


def _arrival(message: Any) -> Arrival:
    headers = _headers(message.headers)
    received = headers.get("waspada-received-at")
    try:
        received_at = datetime.fromisoformat(received) if received else None
    except ValueError:
        received_at = None
    if received_at is not None and received_at.tzinfo is None:
        received_at = None
    channel = headers.get("waspada-channel") or None
    return Arrival(
        record_time=datetime.fromtimestamp(message.timestamp, UTC),
        channel=channel,
        received_at=received_at,
        position=f"{message.topic}:{message.partition}:{message.offset}",
    )


def _headers(raw: Any) -> dict[str, str]:
    pairs = raw.items() if isinstance(raw, dict) else raw or []
    out: dict[str, str] = {}
    for name, value in pairs:
        if isinstance(value, bytes):
            out[name] = value.decode(errors="replace")[:128]
    return out


def _lag(app: faust.App, progress: dict[Any, int]) -> int:
    total = 0
    per_topic: dict[str, int] = dict.fromkeys(SOURCES, 0)
    consumer = app.consumer
    for tp in consumer.assignment():
        if tp.topic not in per_topic:
            continue
        try:
            high = consumer.highwater(tp)
        except Exception:  # no fetch yet for this partition
            continue
        done = progress.get(tp)
        if done is None:  # nothing processed here yet: measure from the committed offset
            done = committed_offset(consumer, tp) or 0
        if high is None:
            continue
        lag = max(0, int(high) - done)
        per_topic[tp.topic] += lag
        total += lag
    for topic, value in per_topic.items():
        metrics.LAG.labels(topic).set(value)
    return total


def _errors(exc: Exception) -> list[dict[str, Any]]:
    if isinstance(exc, ValidationError):
        return [
            {"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]}
            for e in exc.errors(include_url=False, include_input=False, include_context=False)
        ]
    return [{"loc": [], "msg": str(exc)[:300], "type": "value_error"}]
