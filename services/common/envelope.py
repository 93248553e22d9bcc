"""What a publisher puts on an input topic for one event: topic, key, value and headers.

Ingest and the upstream publisher client (``services.publisher``) both build their Kafka
records here, so that a record on ``waspada.tips.v1`` looks the same whichever way it came,
and so that no record can be built from an event that was not de-identified first: identifiers
pseudonymised and free text scrubbed (``deidentify.py``).
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

import orjson

from schemas.events import InputEvent
from schemas.topics import Topics
from services.common.deidentify import deidentified
from services.common.scrub import Rule

CHANNEL_HEADER = "waspada-channel"
RECEIVED_AT_HEADER = "waspada-received-at"


@dataclass(frozen=True, slots=True)
class Envelope:
    """One Kafka record, ready to send: the value holds no personal identifier in clear."""

    event_id: str
    topic: str
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]
    scrubbed: Counter[Rule] = field(default_factory=Counter)
    """How many identifiers each scrub rule replaced in the event's free text (for the service's metric)."""


def headers_for(channel: str, received_at: datetime | None = None) -> list[tuple[str, bytes]]:
    """Transport metadata that is not part of the event: which channel, when it was received."""
    moment = received_at or datetime.now(UTC)
    return [(CHANNEL_HEADER, channel.encode()), (RECEIVED_AT_HEADER, moment.isoformat().encode())]


def envelope(
    event: InputEvent,
    *,
    pseudonym_key: bytes,
    channel: str,
    received_at: datetime | None = None,
    headers: list[tuple[str, bytes]] | None = None,
    event_id: str | None = None,
) -> Envelope:
    """The record for ``event``, de-identified with ``pseudonym_key``, keyed by village.

    ``headers`` (from ``headers_for``) and ``event_id`` (``str(event.event_id)``) may be passed in
    when a caller builds many records at once and already has them.
    """
    body = event.model_dump(mode="json")  # a plain dict: cheaper than copying the model
    safe = deidentified(event, pseudonym_key)
    body.update(safe.fields)
    return Envelope(
        event_id=event_id or str(event.event_id),
        topic=Topics.BY_EVENT_TYPE[event.type],
        key=event.desa_code.encode(),
        value=orjson.dumps(body),
        headers=headers or headers_for(channel, received_at),
        scrubbed=safe.scrubbed,
    )
