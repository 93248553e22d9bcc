"""Publishing validated, pseudonymised events onto their topic, keyed by village."""

import asyncio
import json
from datetime import UTC, datetime

from aiokafka import AIOKafkaProducer

from schemas.events import InputEvent
from schemas.topics import Topics


class KafkaUnavailable(Exception):
    """Kafka did not acknowledge in time: the event was not taken (answer 503)."""


def headers_for(channel: str, received_at: datetime) -> list[tuple[str, bytes]]:
    """Transport metadata that is not part of the event: which channel, when ingest received it."""
    return [
        ("waspada-channel", channel.encode()),
        ("waspada-received-at", received_at.isoformat().encode()),
    ]


async def publish(producer: AIOKafkaProducer, event: InputEvent, *, channel: str, timeout: float) -> None:
    """Send and wait for the acks=all acknowledgement; KafkaUnavailable when it does not come."""
    body = event.model_dump_json().encode()
    try:
        future = await asyncio.wait_for(
            producer.send(
                Topics.BY_EVENT_TYPE[event.type],
                value=body,
                key=event.desa_code.encode(),
                headers=headers_for(channel, datetime.now(UTC)),
            ),
            timeout,
        )
        await asyncio.wait_for(future, timeout)
    except Exception as exc:  # any failure means "not taken"
        raise KafkaUnavailable(str(exc) or type(exc).__name__) from exc


def decode(body: bytes) -> dict[str, object]:
    """JSON body of a published event (used by tests and tools)."""
    value = json.loads(body)
    assert isinstance(value, dict)
    return value
