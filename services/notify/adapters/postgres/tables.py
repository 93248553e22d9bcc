"""The tables of the system of record, in SQLAlchemy Core: the one definition migrations and queries share.

Codes are Kemendagri's (``36.04.13.2007``), with the kecamatan, kabupaten and provinsi prefixes
stored beside the village so that a roll-up is a ``GROUP BY``, not a string function. Times are
``timestamptz``. No table holds a person's identifier in clear: an escalation carries none by
construction (its model has no such field), and officers are named by their directory id.
"""

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

SEVERITIES = ("LOW", "MEDIUM", "HIGH", "CRITICAL")
_SEVERITY_CHECK = "severity IN ('LOW', 'MEDIUM', 'HIGH', 'CRITICAL')"


def _codes() -> list[Column[str]]:
    """The village and its three parents, each a prefix of the village code."""
    return [
        Column("desa_code", String(13), nullable=False, comment="Kemendagri village code PP.RR.DD.VVVV"),
        Column("kecamatan_code", String(8), nullable=False, comment="PP.RR.DD"),
        Column("kabupaten_code", String(5), nullable=False, comment="PP.RR"),
        Column("provinsi_code", String(2), nullable=False, comment="PP"),
    ]


escalation_revisions = Table(
    "escalation_revisions",
    metadata,
    Column("escalation_id", Text, primary_key=True, comment="Deterministic per incident revision"),
    Column("incident_id", Text, nullable=False),
    Column("revision", Integer, nullable=False),
    Column("severity", String(8), nullable=False),
    Column("score", Integer, nullable=False),
    Column("categories", ARRAY(Text), nullable=False, comment="TPPO, TPPM, PMI_NP, HAJI_NP"),
    Column("rules", ARRAY(Text), nullable=False, comment="The ids of the rules that fired, in reason order"),
    *_codes(),
    Column("event_count", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, comment="When triage raised the revision"),
    Column(
        "received_at", DateTime(timezone=True), nullable=False, server_default=func.now(), comment="When notify took it"
    ),
    Column("policy_version", String(64), comment="SHA-256 of the policy that scored it"),
    Column("body", JSONB, nullable=False, comment="The escalation as published (schemas/escalation.py)"),
    UniqueConstraint("incident_id", "revision"),
    CheckConstraint(_SEVERITY_CHECK, name="severity"),
    Index(None, "created_at", "escalation_id"),
    Index(None, "desa_code", "created_at"),
    Index(None, "kecamatan_code", "created_at"),
    comment="Every revision of every incident notify received, once (a replay of the topic writes nothing)",
)

incidents = Table(
    "incidents",
    metadata,
    Column("incident_id", Text, primary_key=True),
    Column("latest_escalation_id", Text, ForeignKey("escalation_revisions.escalation_id"), nullable=False),
    Column("latest_revision", Integer, nullable=False),
    Column("severity", String(8), nullable=False, comment="Of the latest revision"),
    *_codes(),
    Column("status", String(12), nullable=False, server_default="open"),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("acknowledged_at", DateTime(timezone=True)),
    Column("acknowledged_by", Text, comment="Directory id of the office (or officer) that acknowledged"),
    Column("resolved_at", DateTime(timezone=True)),
    Column("resolved_by", Text),
    Column("outcome", Text, comment="What the case turned out to be (CONTRACT §11), once resolved with one"),
    CheckConstraint("status IN ('open', 'acknowledged', 'resolved')", name="status"),
    CheckConstraint(_SEVERITY_CHECK, name="severity"),
    Index(None, "updated_at", "incident_id"),
    Index(None, "status", "severity", "updated_at"),
    Index(None, "kecamatan_code", "updated_at"),
    comment="One row per incident: its latest revision and where the officers stand with it",
)

incident_offices = Table(
    "incident_offices",
    metadata,
    Column("incident_id", Text, ForeignKey("incidents.incident_id"), primary_key=True),
    Column("office_id", Text, primary_key=True),
    Column("role", String(16), nullable=False, comment="responsible, copy, parent or fallback"),
    Column("since", DateTime(timezone=True), nullable=False),
    Index(None, "office_id", "incident_id"),
    comment="Which offices were paged for an incident: what each office's list and audit show",
)

delivery_attempts = Table(
    "delivery_attempts",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("delivery_id", Text, nullable=False, comment="The webhook-id (or e-mail Message-ID) of the delivery"),
    Column("attempt", Integer, nullable=False, comment="1 for the first try; a redelivery counts from 1 again"),
    Column("escalation_id", Text, ForeignKey("escalation_revisions.escalation_id"), nullable=False),
    Column("office_id", Text, nullable=False),
    Column("channel", String(8), nullable=False, comment="webhook or email"),
    Column("kind", String(16), nullable=False, comment="jurisdiction, parent, copy, fallback …"),
    Column("step", Integer, nullable=False, comment="0 for the first page, n for the n-th escalation to parents"),
    Column("outcome", String(16), nullable=False, comment="delivered, failed, retrying, dead_lettered, skipped"),
    Column("detail", Text, comment="The receiver's status or the error's type; never a body"),
    Column("attempted_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("delivery_id", "attempt", "outcome"),
    Index(None, "escalation_id"),
    Index(None, "office_id", "attempted_at"),
    comment="Every delivery attempt and its result",
)

officer_actions = Table(
    "officer_actions",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("action", String(16), nullable=False, comment="list, read, acknowledge, resolve, redeliver, sign_in …"),
    Column("via", String(8), comment="api or console"),
    Column("office_id", Text, nullable=False, comment="The office whose token was used"),
    Column("officer_id", Text, comment="The officer, when a personal token was used"),
    Column("token_ref", String(16), comment="First 12 hex digits of the token's SHA-256: which token, not the token"),
    Column("incident_id", Text),
    Column("escalation_id", Text),
    Column("delivery_id", Text),
    Column("result", Text, comment="What came of it (acknowledged, already_resolved, retrying …)"),
    Column("outcome", Text, comment="A resolution's outcome (CONTRACT §11)"),
    Column("note", Text, comment="The officer's note, scrubbed of identifiers"),
    Column("items", Integer, comment="How many escalations a list showed"),
    Column("at", DateTime(timezone=True), nullable=False),
    Index(None, "office_id", "at"),
    Index(None, "incident_id", "at"),
    comment="The audit trail: every list, read, acknowledgement, resolution and redelivery, who and when",
)

counted_events = Table(
    "counted_events",
    metadata,
    Column("event_id", Text, primary_key=True),
    Column("day", Date, nullable=False),
    comment="Events already in daily_counts: a replayed event counts once",
)

backfills = Table(
    "backfills",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("done_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("copied", JSONB, nullable=False, comment="How many of each kind were copied"),
    comment="One-off copies done (what Valkey held before the system of record existed), each once",
)

daily_counts = Table(
    "daily_counts",
    metadata,
    Column("day", Date, primary_key=True, comment="The event's day in UTC"),
    Column("desa_code", String(13), primary_key=True),
    Column("event_type", String(24), primary_key=True, comment="tip, departure_anomaly, recruiter_sighting"),
    Column("category", String(24), primary_key=True, server_default=text("''"), comment="A tip's category, else ''"),
    Column("severity", String(8), primary_key=True, server_default=text("''"), comment="Severity reached, else ''"),
    Column("kecamatan_code", String(8), nullable=False),
    Column("kabupaten_code", String(5), nullable=False),
    Column("provinsi_code", String(2), nullable=False),
    Column("events", Integer, nullable=False),
    Column("minors_involved", Integer, nullable=False, server_default=text("0")),
    Index(None, "kabupaten_code", "day"),
    comment="Counts per village, day, type, category and severity: what the programme's analytics rank",
)


def region_codes(desa_code: str) -> dict[str, str]:
    """The four codes of a village, for the ``*_code`` columns."""
    return {
        "desa_code": desa_code,
        "kecamatan_code": desa_code[:8],
        "kabupaten_code": desa_code[:5],
        "provinsi_code": desa_code[:2],
    }
