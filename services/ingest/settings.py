"""Ingest's one settings class (CONTRACT §2)."""

from pydantic import Field

from services.common.settings import CommonSettings, ExistingFile, PseudonymKey


class IngestSettings(CommonSettings):
    """``WASPADA_*`` variables ingest reads."""

    channels: ExistingFile
    """The reporting-channel registry (YAML): each channel's id, token hash and rate limit."""
    pseudonym_key: PseudonymKey
    ingest_port: int = 8000
    """Ingest's HTTP port."""
    ingest_host: str = "127.0.0.1"
    """Address ingest listens on (the image sets ``0.0.0.0``)."""
    publish_timeout_s: float = Field(default=5.0, gt=0)
    """Longer than this for Kafka's acknowledgement and the client gets 503 with Retry-After."""
    retry_after_s: int = Field(default=5, ge=1)
    """The Retry-After of a 503: about how long a broker hiccup lasts."""
    inflight_ttl_s: int = Field(default=60, ge=10)
    """How long an event id stays claimed by a request whose publish has not resolved (a crashed
    replica's claims lapse after this). Longer than the producer can hold a message (2 × its request timeout)."""
    ready_probe_interval_s: float = Field(default=1.0, gt=0)
    """How often the readiness probe asks Kafka for metadata and pings Redis."""
    ingest_workers: int = Field(default=1, ge=1, le=32)
    """HTTP worker processes (uvicorn ``workers``; metrics then in prometheus-client's multiprocess mode).
    1 by measurement on the 2-core bench machine: two gave the same figure at ~20 % more CPU per event,
    the load generator taking the second core. More where ingest has cores of its own."""
    linger_ms: int = Field(default=5, ge=0, le=100)
    """Producer linger: concurrent single requests share one produce request to Kafka."""
