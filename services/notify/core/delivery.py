"""One notification to one channel of one office: its id, what the retry queue keeps of it, its console row.

The id (``webhook-id``) is a function of the escalation revision, the office, the escalation step
and the channel, so it is stable across retries, replays and restarts: the notification log, the
retry queue, the dead letters and the receiver all key on it.
"""

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from functools import cached_property
from typing import Any

from schemas.escalation import Escalation
from services.notify.core.directory import Channel, Directory, Office
from services.notify.core.payload import Notice

WEBHOOK_NAMESPACE = uuid.UUID("1d0c8a52-2f7e-4b8e-a7c3-5e4f9b6d2a01")


def webhook_id(escalation_id: str, office_id: str, step: int = 0, channel_index: int = 0) -> str:
    """Stable across retries and restarts: one per escalation revision, office, escalation step and channel."""
    name = f"{escalation_id}:{office_id}" + (f":{step}:{channel_index}" if step or channel_index else "")
    return "msg_" + uuid.uuid5(WEBHOOK_NAMESPACE, name).hex


class Outcome(StrEnum):
    DELIVERED = "delivered"
    ALREADY_DELIVERED = "already_delivered"
    RETRYING = "retrying"
    """Parked in the retry queue: settled for the consumer, the retry worker owns it now."""
    DEAD_LETTERED = "dead_lettered"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Delivery:
    """One notification to one channel of one office."""

    escalation: Escalation
    office: Office
    channel: Channel
    channel_index: int
    notice: Notice

    @cached_property  # read a dozen times per delivery; a uuid5 each time was 5 % of notify's CPU
    def id(self) -> str:
        return webhook_id(self.escalation.escalation_id, self.office.id, self.notice.step, self.channel_index)

    def to_json(self, attempts: int, last_error: str) -> str:
        """What the retry queue keeps to attempt it again (the office by id: secrets stay in the directory)."""
        return json.dumps(
            {
                "escalation": self.escalation.model_dump(mode="json"),
                "office_id": self.office.id,
                "channel_index": self.channel_index,
                "notice": {
                    "kind": self.notice.kind,
                    "step": self.notice.step,
                    "jurisdiction_uncertain": self.notice.jurisdiction_uncertain,
                },
                "attempts": attempts,
                "last_error": last_error,
            }
        )


def delivery_from_json(directory: Directory, data: dict[str, Any]) -> Delivery | None:
    """A parked delivery again; None when its office or channel is no longer in the directory."""
    office = directory.get(data["office_id"])
    index = int(data["channel_index"])
    if office is None or not 0 <= index < len(office.channels):
        return None
    notice = Notice(data["notice"]["kind"], int(data["notice"]["step"]), bool(data["notice"]["jurisdiction_uncertain"]))
    escalation = Escalation.model_validate(data["escalation"])
    return Delivery(escalation, office, office.channels[index], index, notice)


def entry_of(delivery: Delivery, outcome: Outcome, attempts: int, error: str | None = None) -> dict[str, Any]:
    """The console's row of a delivery: office, channel, notice, outcome, attempts so far."""
    entry: dict[str, Any] = {
        "office_id": delivery.office.id,
        "office_name": delivery.office.name,
        "channel": delivery.channel.type,
        "kind": delivery.notice.kind,
        "step": delivery.notice.step,
        "outcome": outcome.value,
        "attempts": attempts,
        "at": datetime.now(UTC).isoformat(),
    }
    if error:
        entry["error"] = error
    return entry
