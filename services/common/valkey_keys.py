"""Every key Waspada keeps in Valkey/Redis, in one place: what an operator finds with ``SCAN``, and why.

ingest and notify share one Valkey in a small deployment, so each keeps to its own prefix; no
service reads another's keys. Keys with an id hold one record each and expire (their TTL is set
where they are written); the fixed keys are the shared queues and indexes every replica works on.
"""

from hashlib import sha256

INGEST = "waspada:ingest"
NOTIFY = "waspada:notify"


# ingest: idempotency and admission (services/ingest/adapters/valkey.py)
def ingest_event(event_id: str) -> str:
    """An event id's claim while it is being published, then its record for 90 days (a duplicate's answer)."""
    return f"{INGEST}:event:{event_id}"


def ingest_rate(channel: str) -> str:
    """A channel's count in the current one-minute window (rate_per_minute)."""
    return f"{INGEST}:rate:{channel}"


# notify: the escalations it received (services/notify/adapters/valkey/store.py)
def escalation(escalation_id: str) -> str:
    """One escalation revision as received."""
    return f"{NOTIFY}:escalation:{escalation_id}"


def status(escalation_id: str) -> str:
    """Open, acknowledged or resolved, by whom and when (a hash)."""
    return f"{NOTIFY}:status:{escalation_id}"


def office_escalations(office_id: str) -> str:
    """The escalations an office was paged for, by creation time (a sorted set): its list in the API and console."""
    return f"{NOTIFY}:office:{office_id}"


def incident_revisions(incident_id: str) -> str:
    """An incident's revisions by number (a sorted set)."""
    return f"{NOTIFY}:incident:{incident_id}:revisions"


def deliveries(escalation_id: str) -> str:
    """The console's row of each delivery of a revision (a hash by delivery id)."""
    return f"{NOTIFY}:deliveries:{escalation_id}"


UNACKNOWLEDGED = f"{NOTIFY}:unacked"
"""Incidents nobody acknowledged yet, with their revision and severity (a hash): the gauge of that name."""


# notify: deliveries (services/notify/adapters/valkey/: notification_log, retry_queue, dead_letters, chains, timers)
def delivered(delivery_id: str) -> str:
    """The notification log: present once the receiver answered 2xx, so a replay never pages twice."""
    return f"{NOTIFY}:delivered:{delivery_id}"


def first_delivery(escalation_id: str) -> str:
    """Set by the first delivered notification of a revision, so the end-to-end histogram counts it once."""
    return f"{NOTIFY}:e2e:{escalation_id}"


def chain(incident_id: str) -> str:
    """The recipients of an incident, fixed when it opened, so a directory edit never changes a running one."""
    return f"{NOTIFY}:chain:{incident_id}"


def dead_delivery(delivery_id: str) -> str:
    """What it takes to send a dead-lettered delivery again (30 days)."""
    return f"{NOTIFY}:deadletter:{delivery_id}"


RETRY_DUE = f"{NOTIFY}:retry:due"
"""Parked deliveries by due time (a sorted set claimed with a lease by every replica's retry worker)."""
RETRY_BODIES = f"{NOTIFY}:retry:body"
"""What each parked delivery sends (a hash by delivery id)."""
RECORDS_BACKLOG = f"{NOTIFY}:records:backlog"
"""Records for PostgreSQL written while it did not answer (a list, oldest first), drained once it does."""
TIMERS = f"{NOTIFY}:timers"
"""Acknowledgement timers by due time (a sorted set claimed with a lease): escalation to the parents."""


# notify: officers (services/notify/adapters/valkey/: sessions.py, audit.py; flows/officers.py)
def session(session_id: str) -> str:
    """A console session, under the SHA-256 of its cookie: a key listing never shows a usable cookie."""
    return f"{NOTIFY}:session:{sha256(session_id.encode()).hexdigest()}"


def audit_of_office(office_id: str) -> str:
    """An office's audit entries, newest first (a capped list)."""
    return f"{NOTIFY}:audit:office:{office_id}"


def audit_of_incident(incident_id: str) -> str:
    """An incident's acknowledgement history (a capped list)."""
    return f"{NOTIFY}:audit:incident:{incident_id}"


def last_list(office_id: str) -> str:
    """The digest of what an office's console list showed last: the poll is audited only when it changed."""
    return f"{NOTIFY}:console:last-list:{office_id}"
