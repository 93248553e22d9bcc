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
    delivery_attempts: int = Field(default=6, ge=1, le=20)
    """Attempts per delivery before it goes to the dead-letter topic."""
    retry_initial_s: float = Field(default=1.0, gt=0)
    retry_max_s: float = Field(default=30.0, gt=0)
    """Backoff cap per wait, also the cap on an honoured Retry-After: retries stay bounded."""
    delivery_concurrency: int = Field(default=16, ge=1, le=256)
    timer_poll_s: float = Field(default=0.5, gt=0)
    timer_lease_s: float = Field(default=120.0, gt=0)
    """A claimed timer that no replica finished within this is claimed again (crash safety)."""
    session_secret: str | None = Field(default=None, min_length=16)
    """Key of console session cookies; random per process when unset (sessions end at restart)."""
