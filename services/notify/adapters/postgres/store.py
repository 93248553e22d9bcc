"""Writing and reading the system of record: every write idempotent, every read keyset-paginated.

Notify writes a record in the same step that makes it count (an acknowledgement is a committed
row before the API answers 200), and replays everything after a crash: so every insert is keyed
by what it records (escalation id, delivery id and attempt, a counted event id) and a second
write of the same thing changes nothing.
"""

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, and_, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from schemas.escalation import Escalation
from services.notify.adapters.postgres.tables import (
    counted_events,
    daily_counts,
    delivery_attempts,
    escalation_revisions,
    incident_offices,
    incidents,
    officer_actions,
    region_codes,
)

MAX_PAGE = 200


def engine(url: str, *, pool_size: int = 5) -> AsyncEngine:
    """The async engine of ``WASPADA_DATABASE_URL`` (psycopg 3), checking connections before use
    so that a restarted PostgreSQL costs one failed request, not a pool of dead connections."""
    return create_async_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


# -- escalations -----------------------------------------------------------------------------------------


async def record_revision(conn: AsyncConnection, escalation: Escalation, offices: Sequence[tuple[str, str]]) -> bool:
    """The revision, its incident's row moved to it when it is newer, and the offices paged for it.

    ``offices`` are ``(office_id, role)``. True when the revision was new.
    """
    codes = region_codes(escalation.desa_code)
    inserted = await conn.execute(
        insert(escalation_revisions)
        .values(
            escalation_id=escalation.escalation_id,
            incident_id=escalation.incident_id,
            revision=escalation.revision,
            severity=escalation.severity.value,
            score=escalation.score,
            categories=list(escalation.categories),
            rules=[reason.rule for reason in escalation.reasons],
            event_count=escalation.event_count,
            created_at=escalation.created_at,
            policy_version=escalation.policy_version,
            body=json.loads(escalation.model_dump_json()),
            **codes,
        )
        .on_conflict_do_nothing(index_elements=["escalation_id"])
        .returning(escalation_revisions.c.escalation_id)
    )
    new = inserted.first() is not None
    latest = {
        "latest_escalation_id": escalation.escalation_id,
        "latest_revision": escalation.revision,
        "severity": escalation.severity.value,
        "updated_at": escalation.created_at,
    }
    upsert = insert(incidents).values(
        incident_id=escalation.incident_id, opened_at=escalation.created_at, **latest, **codes
    )
    await conn.execute(
        upsert.on_conflict_do_update(
            index_elements=["incident_id"],
            set_=latest,
            where=incidents.c.latest_revision < escalation.revision,
        )
    )
    if offices:
        rows = [
            {"incident_id": escalation.incident_id, "office_id": office, "role": role, "since": escalation.created_at}
            for office, role in offices
        ]
        await conn.execute(insert(incident_offices).values(rows).on_conflict_do_nothing())
    return new


async def acknowledge(conn: AsyncConnection, incident_id: str, by: str, at: datetime) -> bool:
    """An open incident acknowledged; False when it was not open (already acknowledged or resolved)."""
    done = await conn.execute(
        update(incidents)
        .where(incidents.c.incident_id == incident_id, incidents.c.status == "open")
        .values(status="acknowledged", acknowledged_at=at, acknowledged_by=by)
    )
    return bool(done.rowcount)


async def resolve(conn: AsyncConnection, incident_id: str, by: str, at: datetime, outcome: str | None = None) -> bool:
    """An incident resolved (acknowledged on the way if it was open); False when it was resolved already."""
    row = incidents.c
    done = await conn.execute(
        update(incidents)
        .where(row.incident_id == incident_id, row.status != "resolved")
        .values(
            status="resolved",
            resolved_at=at,
            resolved_by=by,
            outcome=outcome,
            acknowledged_at=func.coalesce(row.acknowledged_at, at),
            acknowledged_by=func.coalesce(row.acknowledged_by, by),
        )
    )
    return bool(done.rowcount)


# -- deliveries and officer actions ------------------------------------------------------------------------


@dataclass(frozen=True)
class Attempt:
    """One attempt of one delivery and what came of it."""

    delivery_id: str
    attempt: int
    escalation_id: str
    office_id: str
    channel: str
    kind: str
    step: int
    outcome: str
    detail: str | None
    attempted_at: datetime


async def record_attempt(conn: AsyncConnection, attempt: Attempt) -> None:
    """An attempt, once however often a replay records it."""
    await conn.execute(insert(delivery_attempts).values(**attempt.__dict__).on_conflict_do_nothing())


@dataclass(frozen=True)
class Action:
    """What an officer did (or tried), for the audit trail."""

    action: str
    office_id: str
    at: datetime
    officer_id: str | None = None
    token_ref: str | None = None
    via: str | None = None
    incident_id: str | None = None
    escalation_id: str | None = None
    delivery_id: str | None = None
    result: str | None = None
    outcome: str | None = None
    note: str | None = None
    items: int | None = None


async def record_action(conn: AsyncConnection, action: Action) -> None:
    await conn.execute(insert(officer_actions).values(**action.__dict__))


# -- daily counts ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Counted:
    """One event as the daily counts see it."""

    event_id: str
    day: date
    desa_code: str
    event_type: str
    category: str = ""
    severity: str = ""
    minors: int = 0


async def count_event(conn: AsyncConnection, event: Counted) -> bool:
    """The event added to its day's counts unless it was counted before (a replay): True when it was new."""
    claimed = await conn.execute(
        insert(counted_events)
        .values(event_id=event.event_id, day=event.day)
        .on_conflict_do_nothing()
        .returning(counted_events.c.event_id)
    )
    if claimed.first() is None:
        return False
    values = {
        "day": event.day,
        "event_type": event.event_type,
        "category": event.category,
        "severity": event.severity,
        "events": 1,
        "minors_involved": event.minors,
        **region_codes(event.desa_code),
    }
    statement = insert(daily_counts).values(**values)
    await conn.execute(
        statement.on_conflict_do_update(
            constraint=daily_counts.primary_key,
            set_={
                "events": daily_counts.c.events + 1,
                "minors_involved": daily_counts.c.minors_involved + statement.excluded.minors_involved,
            },
        )
    )
    return True


# -- reading ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """The escalation list's filters (CONTRACT §6): all optional, all combined."""

    status: str | None = None
    severity: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    area: str | None = None
    """A village code, or a kecamatan (``PP.RR.DD``), kabupaten (``PP.RR``) or provinsi (``PP``) prefix."""


def encode_cursor(at: datetime, key: str) -> str:
    """An opaque cursor: where the previous page ended (its last row's time and id)."""
    return base64.urlsafe_b64encode(json.dumps([at.isoformat(), key]).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """ValueError when the cursor is not one this API handed out."""
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return datetime.fromisoformat(raw[0]), str(raw[1])
    except (ValueError, TypeError, IndexError, KeyError) as error:
        raise ValueError("not a cursor this API handed out") from error


def _area(column_prefix: str) -> Any:
    codes = {2: incidents.c.provinsi_code, 5: incidents.c.kabupaten_code, 8: incidents.c.kecamatan_code}
    column = codes.get(len(column_prefix), incidents.c.desa_code)
    return column == column_prefix


def _page(query: Select[Any], time_col: Any, key_col: Any, cursor: str | None, limit: int) -> Select[Any]:
    """Newest first, keyset-paginated on (time, key): stable while new rows arrive."""
    if cursor:
        at, key = decode_cursor(cursor)
        query = query.where(or_(time_col < at, and_(time_col == at, key_col < key)))
    return query.order_by(time_col.desc(), key_col.desc()).limit(min(max(limit, 1), MAX_PAGE))


async def incidents_of(
    conn: AsyncConnection, office_ids: Sequence[str], filters: Filters, cursor: str | None, limit: int
) -> tuple[list[dict[str, Any]], str | None]:
    """The incidents any of ``office_ids`` was paged for, newest change first, and the next page's cursor."""
    paged = (
        select(incident_offices.c.incident_id)
        .where(incident_offices.c.incident_id == incidents.c.incident_id, incident_offices.c.office_id.in_(office_ids))
        .exists()
    )
    # EXISTS rather than IN: the planner walks incidents newest first (their index) and stops at the page's end
    query = select(incidents).where(paged)
    if filters.status:
        query = query.where(incidents.c.status == filters.status)
    if filters.severity:
        query = query.where(incidents.c.severity == filters.severity)
    if filters.since:
        query = query.where(incidents.c.updated_at >= filters.since)
    if filters.until:
        query = query.where(incidents.c.updated_at < filters.until)
    if filters.area:
        query = query.where(_area(filters.area))
    rows = [
        dict(r._mapping)
        for r in await conn.execute(_page(query, incidents.c.updated_at, incidents.c.incident_id, cursor, limit))
    ]
    full = len(rows) == min(max(limit, 1), MAX_PAGE)
    after = encode_cursor(rows[-1]["updated_at"], rows[-1]["incident_id"]) if rows and full else None
    return rows, after


async def audit_of(
    conn: AsyncConnection, office_ids: Sequence[str], cursor: str | None, limit: int
) -> tuple[list[dict[str, Any]], str | None]:
    """The audit trail of ``office_ids``, newest first, and the next page's cursor."""
    query = select(officer_actions).where(officer_actions.c.office_id.in_(office_ids))
    if cursor:
        at, key = decode_cursor(cursor)
        query = query.where(
            or_(officer_actions.c.at < at, and_(officer_actions.c.at == at, officer_actions.c.id < int(key)))
        )
    size = min(max(limit, 1), MAX_PAGE)
    query = query.order_by(officer_actions.c.at.desc(), officer_actions.c.id.desc()).limit(size)
    rows = [dict(r._mapping) for r in await conn.execute(query)]
    after = encode_cursor(rows[-1]["at"], str(rows[-1]["id"])) if len(rows) == size else None
    return rows, after
