"""What the intake decides before any I/O: the batch's shape, a channel's rights over an event, an answer.

Order of checks for each event (``flows/intake.py`` carries them out): 422 (invalid) → 403 (type
or region not allowed) → 503 (Kafka known down) → 429 (rate) → idempotency claim → Kafka → 202.
"""

import uuid
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from schemas.events import InputEvent
from services.ingest.core.channels import Channel

MAX_BATCH = 1000


class BatchShape(BaseModel):
    """The envelope of ``POST /v1/events:batch``; its items are validated one by one."""

    model_config = ConfigDict(extra="forbid")

    events: list[Any] = Field(min_length=1, max_length=MAX_BATCH)


batch_shape = TypeAdapter(BatchShape)


@dataclass
class Result:
    """The answer for one event."""

    event_id: str | None
    status: str
    errors: list[dict[str, Any]] | None = None

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"event_id": self.event_id, "status": self.status}
        if self.errors is not None:
            out["errors"] = self.errors
        return out


def forbidden(channel: Channel, event: InputEvent) -> str | None:
    """Why the channel may not send this event (its type or its village), or None."""
    if not channel.may_send(event.type):
        return f"channel {channel.id} may not send {event.type} events"
    if not channel.covers(event.desa_code):
        return f"channel {channel.id} may not send events for village {event.desa_code}"
    return None


def event_id_of(item: Any) -> str | None:
    """The item's event_id when it is a UUID (anything else is not echoed back)."""
    raw = item.get("event_id") if isinstance(item, dict) else None
    try:
        return str(uuid.UUID(raw)) if isinstance(raw, str) else None
    except ValueError:
        return None
