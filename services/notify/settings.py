"""Notify's one settings class (CONTRACT §2)."""

from services.common.settings import CommonSettings, ExistingFile


class NotifySettings(CommonSettings):
    """``WASPADA_*`` variables notify reads."""

    directory: ExistingFile
    notify_port: int = 8002
    notify_host: str = "127.0.0.1"
    smtp_url: str | None = None
    public_url: str = "http://127.0.0.1:8002"
    """Base of the console link put in every notification."""
    webhook_timeout_s: float = 15.0
