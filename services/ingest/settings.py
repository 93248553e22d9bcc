"""Ingest's one settings class (CONTRACT §2)."""

from services.common.settings import CommonSettings, ExistingFile, PseudonymKey


class IngestSettings(CommonSettings):
    """``WASPADA_*`` variables ingest reads."""

    channels: ExistingFile
    pseudonym_key: PseudonymKey
    ingest_port: int = 8000
    ingest_host: str = "127.0.0.1"
    publish_timeout_s: float = 5.0
    """Longer than this for Kafka's acknowledgement and the client gets 503 with Retry-After."""
