"""``Publisher``: validate, pseudonymise and publish events with kafka-python (acks=all)."""

from dataclasses import dataclass, field
from typing import Any

from kafka import KafkaProducer
from pydantic import ValidationError

from schemas.events import ADAPTERS, InputEvent
from services.common.envelope import envelope


@dataclass
class LineResult:
    """One input line's fate: accepted (sent, awaiting acknowledgement) or rejected with reasons."""

    line: int
    event_id: str | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return not self.errors


def describe(exc: ValidationError) -> list[str]:
    """``field: reason`` for each error; the rejected value is never shown (it may be personal data)."""
    return [
        f"{'.'.join(str(p) for p in e['loc']) or '(event)'}: {e['msg']}"
        for e in exc.errors(include_url=False, include_input=False)
    ]


def validate(raw: Any, default_type: str | None = None) -> InputEvent:
    """The event in ``raw`` (a parsed JSON object), by its ``type`` or ``default_type``; ValueError naming the field."""
    if not isinstance(raw, dict):
        raise ValueError("(event): must be a JSON object")
    event_type = raw.get("type", default_type)
    if event_type not in ADAPTERS:
        raise ValueError(f"type: must be one of {', '.join(ADAPTERS)}")
    event: InputEvent = ADAPTERS[event_type].validate_python(raw)
    return event


class Publisher:
    """A kafka-python producer that only ever sends validated, pseudonymised events."""

    def __init__(self, bootstrap: str, pseudonym_key: bytes, channel: str, producer: KafkaProducer | None = None):
        self.pseudonym_key = pseudonym_key
        self.channel = channel
        self.producer = producer or KafkaProducer(
            bootstrap_servers=bootstrap.split(","), acks="all", linger_ms=10, retries=5, request_timeout_ms=15_000
        )
        self.futures: list[tuple[LineResult, Any]] = []

    def publish(self, event: InputEvent) -> Any:
        """Send one validated event; returns kafka-python's future (``.get()`` waits for the acknowledgement)."""
        record = envelope(event, pseudonym_key=self.pseudonym_key, channel=self.channel)
        return self.producer.send(record.topic, value=record.value, key=record.key, headers=record.headers)

    def offer(self, line: int, raw: Any, default_type: str | None = None) -> LineResult:
        """Validate and send one parsed line; a rejected line is not sent."""
        result = LineResult(line)
        try:
            event = validate(raw, default_type)
        except ValidationError as exc:
            result.errors = describe(exc)
            return result
        except ValueError as exc:
            result.errors = [str(exc)]
            return result
        result.event_id = str(event.event_id)
        self.futures.append((result, self.publish(event)))
        return result

    def confirm(self, timeout_s: float = 30.0) -> list[LineResult]:
        """Wait for every acknowledgement; the lines Kafka did not take are returned (and marked)."""
        self.producer.flush(timeout_s)
        failed = []
        for result, future in self.futures:
            try:
                future.get(timeout=timeout_s)
            except Exception as exc:  # not acknowledged: the line was not taken
                result.errors = [f"kafka: {type(exc).__name__}"]
                failed.append(result)
        self.futures.clear()
        return failed

    def close(self) -> None:
        self.producer.close(timeout=10)
