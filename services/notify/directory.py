"""The jurisdiction directory (CONTRACT §6): offices, their parents, prefixes and channels."""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from schemas.escalation import Severity

Prefix = Annotated[str, StringConstraints(pattern=r"^\d{2}(\.\d{2}(\.\d{2}(\.\d{4})?)?)?$")]


class WebhookChannel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["webhook"]
    url: Annotated[str, StringConstraints(pattern=r"^https?://")]
    secret: Annotated[str, StringConstraints(pattern=r"^whsec_[A-Za-z0-9+/=]{16,}$")]


class EmailChannel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["email"]
    to: Annotated[str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+$")]


Channel = Annotated[WebhookChannel | EmailChannel, Field(discriminator="type")]


class Office(BaseModel):
    """A Polres/Polresta/Polda or Kantor Imigrasi/Kanwil."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{1,63}$")]
    name: str
    agency: Literal["polri", "imigrasi"]
    parent: str | None = None
    jurisdiction: tuple[Prefix, ...] = ()
    token_sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
    channels: tuple[Channel, ...] = ()
    min_severity: Severity = Severity.MEDIUM


class Directory(BaseModel):
    """The YAML file: top-level key ``offices``."""

    model_config = ConfigDict(extra="forbid")

    offices: list[Office]

    @model_validator(mode="after")
    def _consistent(self) -> "Directory":
        ids = {o.id for o in self.offices}
        if len(ids) != len(self.offices):
            raise ValueError("two offices share one id")
        for office in self.offices:
            if office.parent is not None and office.parent not in ids:
                raise ValueError(f"office {office.id}: unknown parent {office.parent!r}")
        return self

    def office(self, office_id: str) -> Office:
        return next(o for o in self.offices if o.id == office_id)

    def route(self, desa_code: str) -> list[Office]:
        """Per agency, the office whose prefix matches the village most specifically."""
        chosen: dict[str, tuple[int, Office]] = {}
        for office in self.offices:
            for prefix in office.jurisdiction:
                if desa_code == prefix or desa_code.startswith(prefix + "."):
                    best = chosen.get(office.agency)
                    if best is None or len(prefix) > best[0]:
                        chosen[office.agency] = (len(prefix), office)
        return [office for _, office in sorted(chosen.values(), key=lambda pair: pair[1].agency)]
