"""Handling one fetched batch of escalations: every record settled before the consumer commits.

The incidents of a batch are handled concurrently (the revisions of one incident in order), and
the handler returns only once every delivery it called for is settled (delivered, parked in the
durable retry queue, or dead-lettered); the loop that fetches and commits is ``adapters/kafka.py``.
A crash before the commit replays the batch, and the notification log turns the replay into
no-ops for what was already delivered.

A record that fails in a way no replay mends goes to the dead-letter topic with its reason
instead, and the batch commits past it: an invalid escalation (``invalid_escalation``, with the
fields at fault), or one whose handling raised anything but an outage (``processing_error``, with
the error's type). A replayed batch would fail on it again, forever, and nothing behind it on its
partition would be delivered. An outage is raised, and the loop replays the batch.
"""

from collections.abc import Awaitable, Callable
from typing import Any

from aiokafka import ConsumerRecord
from pydantic import ValidationError

from schemas.deadletter import DeadLetter, RecordSource
from schemas.escalation import Escalation
from services.common.logs import get_logger
from services.notify.adapters import metrics
from services.notify.adapters.outages import OUTAGES
from services.notify.core.aio import settle_all
from services.notify.flows.router import Router

log = get_logger("waspada.notify.consumer")
SendDeadLetter = Callable[[bytes, bytes], Awaitable[None]]


async def _dead_letter(
    message: ConsumerRecord, deadletter: SendDeadLetter, reason: str, errors: list[dict[str, Any]]
) -> None:
    """The record to the dead-letter topic, by where it was (its offset: an operator can read it again)."""
    metrics.DEADLETTERS.labels("notify", reason).inc()
    log.warning(f"notify.{reason}", offset=message.offset, partition=message.partition, errors=errors)
    body = DeadLetter(
        stage="notify",
        reason=reason,
        source=RecordSource(topic=message.topic, partition=message.partition, offset=message.offset),
        errors=errors,
    )
    await deadletter(message.key or b"", body.to_bytes())


def _invalid_fields(error: ValidationError) -> list[dict[str, Any]]:
    """Where and why, never the value (a dead-letter record is read by operators, not officers)."""
    return [{"loc": ".".join(str(p) for p in e["loc"]), "type": e["type"]} for e in error.errors()[:20]]


async def _handle(message: ConsumerRecord, escalation: Escalation, router: Router, deadletter: SendDeadLetter) -> None:
    """One record handled, or dead-lettered when it fails in a way a replay would not mend."""
    try:
        await router.handle(escalation)
    except OUTAGES:
        raise
    except Exception as error:
        log.exception("notify.processing_error", escalation_id=escalation.escalation_id)
        found = {"error": type(error).__name__, "message": str(error)[:300], "escalation_id": escalation.escalation_id}
        await _dead_letter(message, deadletter, "processing_error", [found])


async def handle_batch(messages: list[ConsumerRecord], router: Router, deadletter: SendDeadLetter) -> None:
    """Every message of a batch settled: incidents concurrently, revisions of one incident in order."""
    by_incident: dict[str, list[tuple[ConsumerRecord, Escalation]]] = {}
    for message in messages:
        try:
            escalation = Escalation.model_validate_json(message.value or b"")
        except ValidationError as error:
            await _dead_letter(message, deadletter, "invalid_escalation", _invalid_fields(error))
            continue
        by_incident.setdefault(escalation.incident_id, []).append((message, escalation))

    async def in_order(records: list[tuple[ConsumerRecord, Escalation]]) -> None:
        for message, escalation in sorted(records, key=lambda r: r[1].revision):
            await _handle(message, escalation, router, deadletter)

    await settle_all((in_order(group) for group in by_incident.values()), outages_first=OUTAGES)
