"""What an officer may see and do, shared by the officer API and the console.

An office sees the escalations whose chain names it or one of the offices below it (a Polda
its Polres, a Kanwil its Kanim); anything else does not exist for it (404, not 403, so ids of
other jurisdictions cannot be probed). The same holds for sending a dead-lettered delivery again:
the delivery's own office or one above it. Every list, read, acknowledgement, resolution and
redelivery is written to the audit log.
"""

import builtins
import hashlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, Literal

from redis.asyncio import Redis

from schemas.outcomes import Resolution
from services.common import valkey_keys
from services.notify.adapters.valkey import audit, store, timers
from services.notify.core.directory import Directory, Office
from services.notify.core.errors import Conflict
from services.notify.flows import redelivery
from services.notify.flows.redelivery import Redelivery

Via = Literal["api", "console"]
Publish = Callable[[Resolution], Awaitable[None]]
"""Puts a resolution on ``waspada.outcomes.v1`` and returns once the broker acknowledged it."""


class Officers:
    def __init__(self, directory: Directory, redis: Redis, repeats: int, publish: Publish) -> None:
        self.directory = directory
        self.redis = redis
        self.repeats = repeats
        self.publish = publish

    def visible_ids(self, office: Office) -> list[str]:
        """The office itself and every office below it."""
        return [office.id, *(o.id for o in self.directory.children(office.id))]

    async def _find(self, office: Office, escalation_id: str) -> dict[str, Any] | None:
        record = await store.get(self.redis, escalation_id)
        if record is None or not set(record["offices"]) & set(self.visible_ids(office)):
            return None
        return record

    async def list(self, office: Office, via: Via, *, audit: bool = True) -> list[dict[str, Any]]:
        records = await store.for_offices(self.redis, self.visible_ids(office))
        if audit:
            await self._audit_list(office, via, len(records))
        return records

    async def _audit_list(self, office: Office, via: Via, count: int) -> None:
        await audit.record(self.redis, office_id=office.id, action="list", via=via, count=count)

    async def note_list_change(self, office: Office, escalation_ids: builtins.list[str]) -> None:
        """Audit a polled list read when what it shows changed (a poll every few seconds is not news)."""
        digest = hashlib.sha256("|".join(sorted(escalation_ids)).encode()).hexdigest()
        previous = await self.redis.getset(valkey_keys.last_list(office.id), digest)
        if previous is None or store._text(previous) != digest:
            await self._audit_list(office, "console", len(escalation_ids))

    async def note(self, office: Office, action: Literal["sign_in", "sign_out"]) -> None:
        await audit.record(self.redis, office_id=office.id, action=action, via="console")

    async def read(self, office: Office, escalation_id: str, via: Via) -> dict[str, Any] | None:
        """The escalation with its deliveries, revisions and acknowledgement history; None if not visible."""
        record = await self._find(office, escalation_id)
        if record is None:
            return None
        await audit.record(self.redis, office_id=office.id, action="read", via=via, escalation_id=escalation_id)
        return record | await self.extras(record)

    async def extras(self, record: dict[str, Any]) -> dict[str, Any]:
        revisions = await store.revisions(self.redis, record["incident_id"])
        return {
            "deliveries": await store.deliveries(self.redis, record["escalation_id"]),
            "history": await audit.for_incident(self.redis, record["incident_id"]),
            "revisions": [
                {
                    k: r[k]
                    for k in (
                        "escalation_id",
                        "revision",
                        "severity",
                        "score",
                        "event_count",
                        "event_types",
                        "first_seen",
                        "last_seen",
                        "created_at",
                    )
                }
                for r in revisions
            ],
        }

    async def change(
        self,
        office: Office,
        escalation_id: str,
        action: Literal["acknowledge", "resolve"],
        via: Via,
        note: str | None = None,
    ) -> dict[str, Any] | None:
        """Acknowledge or resolve; stops the acknowledgement timers; None if not visible."""
        record = await self._find(office, escalation_id)
        if record is None:
            return None
        if action == "acknowledge" and record["status"] == "resolved":
            raise Conflict("already resolved")
        status: Literal["acknowledged", "resolved"] = "acknowledged" if action == "acknowledge" else "resolved"
        if status == "resolved" and record["status"] != "resolved":
            # triage learns first: a resolution that is stored but never published would leave the
            # village's incident open in triage, and its next event folded into a closed case
            await self.publish(resolution_of(record, office))
        updated = await store.set_status(self.redis, record, status, office.id)
        earlier = [
            r["escalation_id"]
            for r in await store.revisions(self.redis, record["incident_id"])
            if r["revision"] <= record["revision"]
        ]
        await timers.cancel(self.redis, earlier, self.repeats)
        await store.clear_unacknowledged(self.redis, record["incident_id"], record["revision"])
        await audit.record(
            self.redis,
            office_id=office.id,
            action=action,
            via=via,
            escalation_id=escalation_id,
            incident_id=record["incident_id"],
            note=note,
        )
        return updated

    async def redeliver(self, office: Office, delivery_id: str, via: Via) -> Redelivery | None:
        """Send a dead-lettered delivery again; None unless it was dead-lettered and is this office's or below it."""
        delivery = await redelivery.find(self.redis, self.directory, delivery_id)
        if delivery is None or delivery.office.id not in self.visible_ids(office):
            return None
        status = await redelivery.queue(self.redis, delivery)
        await audit.record(
            self.redis,
            office_id=office.id,
            action="redeliver",
            via=via,
            escalation_id=delivery.escalation.escalation_id,
            incident_id=delivery.escalation.incident_id,
            delivery_id=delivery_id,
            outcome=status.value,
        )
        return Redelivery(delivery, status)

    async def audit_log(self, office: Office) -> builtins.list[dict[str, Any]]:
        return await audit.for_office(self.redis, self.visible_ids(office))


def resolution_of(record: dict[str, Any], office: Office) -> Resolution:
    """The record on ``waspada.outcomes.v1`` for resolving ``record`` (and every revision before it)."""
    return Resolution(
        escalation_id=record["escalation_id"],
        incident_id=record["incident_id"],
        revision=record["revision"],
        desa_code=record["desa_code"],
        resolved_by=office.id,
        resolved_at=datetime.now(UTC),
        rules=list(dict.fromkeys(reason["rule"] for reason in record.get("reasons", []))),
    )
