"""The publisher's one settings class (CONTRACT §2)."""

from pydantic import Field

from services.common.settings import CommonSettings, PseudonymKey


class PublisherSettings(CommonSettings):
    """``WASPADA_KAFKA_BOOTSTRAP`` and ``WASPADA_PSEUDONYM_KEY`` (the same key as ingest's)."""

    pseudonym_key: PseudonymKey
    publisher_channel: str = Field(default="publisher", pattern=r"^[a-z0-9][a-z0-9_-]{1,63}$")
    """Channel id put in the records' header by ``python -m services.publisher`` (``--channel`` overrides it)."""
