"""The registry of upstream reporting channels (``WASPADA_CHANNELS``) and token look-up.

Only SHA-256 hashes of tokens are stored; a request's bearer token is hashed and looked up.
"""

import hashlib
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from schemas.events import EventTypeName


class Channel(BaseModel):
    """One upstream channel: who it is, what it may send, for which regions, how fast."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{1,63}$")]
    token_sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
    allowed_types: frozenset[EventTypeName] = Field(min_length=1)
    allowed_regions: tuple[str, ...] = Field(min_length=1)
    rate_per_minute: int | None = Field(default=None, ge=1)

    @field_validator("allowed_regions", mode="before")
    @classmethod
    def _regions(cls, value: object) -> object:
        return (value,) if isinstance(value, str) else value

    @field_validator("allowed_regions")
    @classmethod
    def _prefixes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for prefix in value:
            if prefix != "*" and not prefix.replace(".", "").isdigit():
                raise ValueError(f"region prefix {prefix!r} is neither '*' nor a Kemendagri code prefix")
        return value

    def may_send(self, event_type: str) -> bool:
        return event_type in self.allowed_types

    def covers(self, desa_code: str) -> bool:
        """True when the village lies under one of the allowed prefixes."""
        if "*" in self.allowed_regions:
            return True
        return any(desa_code == p or desa_code.startswith(p + ".") for p in self.allowed_regions)


class ChannelRegistry(BaseModel):
    """The YAML file: top-level key ``channels``."""

    model_config = ConfigDict(extra="forbid")

    channels: list[Channel]

    @model_validator(mode="after")
    def _unique(self) -> "ChannelRegistry":
        ids = [c.id for c in self.channels]
        hashes = [c.token_sha256 for c in self.channels]
        if len(set(ids)) != len(ids):
            raise ValueError("two channels share one id")
        if len(set(hashes)) != len(hashes):
            raise ValueError("two channels share one token")
        return self

    def by_token(self, token: str) -> Channel | None:
        """The channel whose token hashes to the stored value, or None."""
        digest = hashlib.sha256(token.encode()).hexdigest()
        return next((c for c in self.channels if c.token_sha256 == digest), None)
