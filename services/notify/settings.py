"""Notify's one settings class (CONTRACT §2)."""

from typing import Annotated, Any

from pydantic import Field, field_validator
from pydantic_settings import NoDecode

from services.common.settings import CommonSettings, ExistingFile

STANDARD_WEBHOOKS_SCHEDULE_S = (5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0)
"""Standard Webhooks' waits after a failed attempt: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (about 28 h)."""
Schedule = Annotated[
    tuple[Annotated[float, Field(gt=0, le=7 * 86400)], ...], NoDecode, Field(min_length=1, max_length=49)
]


class NotifySettings(CommonSettings):
    """``WASPADA_*`` variables notify reads."""

    directory: ExistingFile
    """The jurisdiction directory (YAML, generated from ``data/offices/``): every office with its
    jurisdiction, channels and token hash."""
    notify_port: int = 8002
    """Notify's HTTP port (officer API, console, health and metrics)."""
    notify_host: str = "127.0.0.1"
    """Address notify listens on (the image sets ``0.0.0.0``)."""
    smtp_url: str | None = Field(default=None, pattern=r"^smtp://[\w.\-]+:\d+/?$")
    """``smtp://host:port`` of the mail relay for e-mail channels; unset, e-mail channels are skipped."""
    database_url: str | None = Field(default=None, pattern=r"^postgresql(\+psycopg)?://")
    """The system of record (CONTRACT §14): ``postgresql://user:password@host:port/db`` of PostgreSQL 14 or newer;
    notify applies its migrations at start. Unset, nothing is recorded beyond Valkey (the devstack always sets it)."""
    smtp_from: str = "waspada@waspada.invalid"
    """Sender of the e-mails."""
    public_url: str = "http://127.0.0.1:8002"
    """Base of the console link put in every notification."""
    webhook_timeout_s: float = Field(default=15.0, gt=0)
    """Timeout of one webhook attempt."""
    default_ack_within_s: int = Field(default=4 * 3600, ge=1)
    """Acknowledgement time of a HIGH/CRITICAL escalation that does not carry the policy's own."""
    escalation_repeats: int = Field(default=3, ge=1, le=20)
    """How many times an unacknowledged escalation goes (again) to the parent offices."""
    retry_schedule_s: Schedule = Field(default=STANDARD_WEBHOOKS_SCHEDULE_S, validate_default=True)
    """The wait after each failed attempt, in seconds, comma-separated (``5,300,…``), each less up to 20 %
    jitter: one attempt more than waits, then the dead-letter topic. The default is Standard Webhooks'
    schedule, about a day. It replaces ``WASPADA_DELIVERY_ATTEMPTS``, ``WASPADA_RETRY_INITIAL_S`` and
    ``WASPADA_RETRY_MAX_S``, which stop every service at start when set."""
    delivery_quick_attempts: int = Field(default=3, ge=1, le=10)
    """Attempts made at once, in process (only while the next wait is ≤ 5 s: with the default schedule, two);
    after them a failing delivery is parked in the retry queue."""
    retry_after_max_s: float = Field(default=3600.0, gt=0)
    """A receiver's Retry-After lengthens a scheduled wait up to this (a longer one is cut to this); it never
    shortens one."""
    retry_poll_s: float = Field(default=0.5, gt=0)
    """How often the retry worker looks for due deliveries."""
    retry_lease_s: float = Field(default=60.0, gt=0)
    """A claimed retry that no replica settled within this is claimed again (crash safety)."""
    shutdown_grace_s: float = Field(default=5.0, gt=0, le=60)
    """On SIGTERM: how long the batch in hand and the deliveries in flight get to finish and be logged before
    the process exits."""
    delivery_concurrency: int = Field(default=16, ge=1, le=256)
    """Delivery attempts in flight per process."""
    timer_poll_s: float = Field(default=0.5, gt=0)
    """How often the acknowledgement timers are looked at for due ones."""
    timer_lease_s: float = Field(default=120.0, gt=0)
    """A claimed timer that no replica finished within this is claimed again (crash safety)."""

    @property
    def delivery_attempts(self) -> int:
        """Attempts per delivery (in process and from the retry queue) before the dead-letter topic."""
        return len(self.retry_schedule_s) + 1

    @field_validator("retry_schedule_s", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        """``"5,300,1800"`` from the environment; a list or tuple as it is."""
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value
