"""Sending a dead-lettered delivery again, on an officer's request (``POST /v1/deliveries/{id}/redeliver``).

The delivery goes back into the durable retry queue, due at once, with its attempts counted from
zero: the retry worker of any replica attempts it within ``retry_poll_s``, under the same
``webhook-id`` (a function of escalation revision, office, step and channel, so the receiver can
drop a copy it already has), and a receiver still down gets the whole schedule again before the
delivery is dead-lettered again. Idempotent: one queued already stays as it is, and one the
notification log has as delivered is not sent again.
"""

import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import ValidationError
from redis.asyncio import Redis

from services.notify.adapters.valkey import dead_letters, retry_queue
from services.notify.adapters.valkey.notification_log import delivered, record
from services.notify.core.delivery import Delivery, Outcome, delivery_from_json
from services.notify.core.directory import Directory

REQUESTED = "redelivery_requested"
"""The ``error`` of the console's row while a redelivery waits for its first attempt."""


class Status(StrEnum):
    RETRYING = "retrying"
    """Queued: the retry worker sends it now (and again on the schedule while it fails)."""
    DELIVERED = "delivered"
    """Delivered already (by an earlier redelivery): nothing is sent."""


@dataclass(frozen=True)
class Redelivery:
    delivery: Delivery
    status: Status

    def answer(self) -> dict[str, Any]:
        """The officer API's body."""
        escalation = self.delivery.escalation
        return {
            "delivery_id": self.delivery.id,
            "escalation_id": escalation.escalation_id,
            "office_id": self.delivery.office.id,
            "channel": self.delivery.channel.type,
            "status": self.status.value,
            "detail": "already delivered: nothing sent" if self.status is Status.DELIVERED else "queued for delivery",
        }


async def find(redis: Redis, directory: Directory, delivery_id: str) -> Delivery | None:
    """The dead-lettered delivery of this id; None when none was kept or its office left the directory."""
    data = await dead_letters.kept(redis, delivery_id)
    if data is None:
        return None
    try:
        delivery = delivery_from_json(directory, data)
    except (KeyError, TypeError, ValueError, ValidationError):
        return None
    return delivery if delivery is not None and delivery.id == delivery_id else None


async def queue(redis: Redis, delivery: Delivery) -> Status:
    """Into the retry queue, due now, unless delivered or queued already."""
    if await delivered(redis, delivery.id):
        return Status.DELIVERED
    if await retry_queue.park_new(redis, delivery.id, delivery.to_json(0, REQUESTED), time.time()):
        await record(redis, delivery, Outcome.RETRYING, 0, REQUESTED)
    return Status.RETRYING
