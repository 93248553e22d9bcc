"""Notify's one settings class (CONTRACT §2)."""

from pydantic import Field

from services.common.settings import CommonSettings, ExistingFile


class NotifySettings(CommonSettings):
    """``WASPADA_*`` variables notify reads."""

    directory: ExistingFile
    notify_port: int = 8002
    notify_host: str = "127.0.0.1"
    smtp_url: str | None = Field(default=None, pattern=r"^smtp://[\w.\-]+:\d+/?$")
    smtp_from: str = "waspada@waspada.invalid"
    public_url: str = "http://127.0.0.1:8002"
    """Base of the console link put in every notification."""
    webhook_timeout_s: float = Field(default=15.0, gt=0)
    default_ack_within_s: int = Field(default=4 * 3600, ge=1)
    """Acknowledgement time of a HIGH/CRITICAL escalation that does not carry the policy's own."""
    escalation_repeats: int = Field(default=3, ge=1, le=20)
    """How many times an unacknowledged escalation goes (again) to the parent offices."""
    delivery_attempts: int = Field(default=16, ge=1, le=50)
    """Attempts per delivery (in process and from the retry queue) before it goes to the dead-letter topic."""
    delivery_quick_attempts: int = Field(default=3, ge=1, le=10)
    """Attempts made at once, in process; after them a failing delivery is parked in the retry queue."""
    retry_initial_s: float = Field(default=1.0, gt=0)
    retry_max_s: float = Field(default=30.0, gt=0)
    """Backoff cap per wait: the wait before attempt n+1 is min(initial·2^(n-1), max), minus up to 20 % jitter."""
    retry_after_max_s: float = Field(default=600.0, gt=0)
    """The longest Retry-After a receiver can ask for; a longer one is cut to this."""
    retry_poll_s: float = Field(default=0.5, gt=0)
    retry_lease_s: float = Field(default=60.0, gt=0)
    """A claimed retry that no replica settled within this is claimed again (crash safety)."""
    shutdown_grace_s: float = Field(default=5.0, gt=0, le=60)
    """On SIGTERM: how long in-flight deliveries get to finish and be logged before the process exits."""
    delivery_concurrency: int = Field(default=16, ge=1, le=256)
    timer_poll_s: float = Field(default=0.5, gt=0)
    timer_lease_s: float = Field(default=120.0, gt=0)
    """A claimed timer that no replica finished within this is claimed again (crash safety)."""
    session_secret: str | None = Field(default=None, min_length=16)
    """Key of console session cookies; random per process when unset (sessions end at restart)."""
