"""Retention (UU PDP 27/2022, CONTRACT §14): what could identify someone is erased a while after a case closed.

The records hold no traveller, reporter or recruiter identifier by construction; what can still
point at a person is free text an officer typed (notes, scrubbed of identifiers as they are written,
which catches what it recognises and no more) and the token reference of the action. Both are
erased once the incident has been resolved for ``keep`` (two years by default); the rows stay, so
the audit still says who (the office) did what and when, and counts and outcomes stay whole.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from services.common.logs import get_logger
from services.notify.adapters.postgres.tables import incidents, officer_actions

log = get_logger("waspada.notify.retention")
DEFAULT_KEEP = timedelta(days=730)


@dataclass(frozen=True)
class Erased:
    """What one pass erased, for the log line an auditor reads."""

    incidents: int
    actions: int
    before: datetime


async def erase_expired(conn: AsyncConnection, now: datetime, keep: timedelta = DEFAULT_KEEP) -> Erased:
    """Erase the notes and token references of actions on incidents resolved before ``now - keep``."""
    before = now - keep
    expired = select(incidents.c.incident_id).where(incidents.c.status == "resolved", incidents.c.resolved_at < before)
    pending = and_(
        officer_actions.c.incident_id.in_(expired),
        (officer_actions.c.note.is_not(None)) | (officer_actions.c.token_ref.is_not(None)),
    )
    touched = await conn.execute(
        update(officer_actions)
        .where(pending)
        .values(note=None, token_ref=None)
        .returning(officer_actions.c.incident_id)
    )
    rows = touched.all()
    erased = Erased(incidents=len({row.incident_id for row in rows}), actions=len(rows), before=before)
    log.info("retention.erased", incidents=erased.incidents, actions=erased.actions, resolved_before=before.isoformat())
    return erased
