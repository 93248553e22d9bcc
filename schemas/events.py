"""The three input events of CONTRACT §4: Tip, DepartureAnomaly and RecruiterSighting.

The same models validate a request at ingest and a message that triage reads off a topic, so
an event published straight onto a topic is judged exactly as one posted over HTTP.

Personal identifiers (``reporter``, ``traveller``, ``recruiter``) arrive in clear at the edge
and leave it as keyed pseudonyms (``psn_`` + 32 hex digits, see ``services.common.pseudonym``);
the models accept both forms, and ``has_clear_identifiers`` tells which one an event holds.
Free text (``free_text``: ``description``, a sighting's ``promised_job``) may hold identifiers too;
``services.common.scrub`` replaces them by the same pseudonyms.
Unknown fields are refused (``extra="forbid"``): a field we do not know is a field we cannot
scrub, and it must not reach a topic.
"""

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal, TypeAlias
from uuid import UUID

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    model_validator,
)
from pydantic_extra_types.country import CountryAlpha2

from schemas.regions import region_table

MAX_CLOCK_SKEW = timedelta(minutes=5)
PSEUDONYM_PATTERN = r"^psn_[0-9a-f]{32}$"


class EventType(StrEnum):
    """The ``type`` discriminator of an input event."""

    TIP = "tip"
    DEPARTURE_ANOMALY = "departure_anomaly"
    RECRUITER_SIGHTING = "recruiter_sighting"


def _known_village(code: str) -> str:
    if code not in region_table().villages:
        raise ValueError(f"unknown village code {code!r}: not in the Kemendagri region table")
    return code


def _not_in_future(moment: datetime) -> datetime:
    if moment - datetime.now(UTC) > MAX_CLOCK_SKEW:
        raise ValueError("occurred_at is more than 5 minutes ahead of the server clock")
    return moment


DesaCode = Annotated[
    str,
    StringConstraints(pattern=r"^\d{2}\.\d{2}\.\d{2}\.\d{4}$"),
    AfterValidator(_known_village),
    Field(description="Kemendagri village code PP.RR.DD.VVVV", examples=["36.04.13.2007"]),
]
OccurredAt = Annotated[
    AwareDatetime,
    AfterValidator(_not_in_future),
    Field(description="RFC 3339 with offset; at most 5 minutes ahead of the server clock"),
]
Pseudonym = Annotated[str, StringConstraints(pattern=PSEUDONYM_PATTERN)]
Identifier = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=64),
    Field(description="In clear at the edge; a keyed pseudonym (psn_…) on every topic"),
]
Description = Annotated[str, StringConstraints(max_length=4000)]


class Reporter(BaseModel):
    """Who reported, in clear: only ever seen by ingest, which pseudonymises it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    phone: Annotated[str, StringConstraints(min_length=3, max_length=32)] | None = None

    @model_validator(mode="after")
    def _one_of(self) -> "Reporter":
        if self.name is None and self.phone is None:
            raise ValueError("reporter needs a name or a phone")
        return self


class _EventBase(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    event_id: UUID = Field(description="The client's idempotency key")
    occurred_at: OccurredAt
    desa_code: DesaCode
    description: Description | None = None
    reporter: Pseudonym | Reporter | None = Field(
        default=None, description="Name and/or phone in clear at the edge; a pseudonym on topics"
    )

    def identifiers(self) -> list[str | Reporter]:
        """The personal identifiers this event carries, in whatever form they are."""
        return [self.reporter] if self.reporter is not None else []

    def has_clear_identifiers(self) -> bool:
        """True while any identifier is still in clear (not a ``psn_`` pseudonym)."""
        return any(not _is_pseudonym(value) for value in self.identifiers())

    def free_text(self) -> dict[str, str]:
        """The free-text fields this event carries (field name → text): identifiers typed in them are scrubbed."""
        return {"description": self.description} if self.description else {}


def _is_pseudonym(value: str | Reporter) -> bool:
    return isinstance(value, str) and value.startswith("psn_") and len(value) == 36


TipCategory = Literal[
    "recruitment_offer", "suspected_victim", "suspicious_departure", "document_fraud", "online_scam_job", "other"
]
Purpose = Literal["tourism", "umrah", "hajj", "visit", "business", "work", "study", "other"]
DepartureIndicator = Literal[
    "one_way_ticket",
    "sponsor_accompanied",
    "group_same_sponsor",
    "no_work_visa",
    "no_epmi",
    "inconsistent_story",
    "previous_refusal",
    "suspected_fake_document",
    "ticket_paid_by_third_party",
]
RecruiterActivity = Literal[
    "door_to_door", "social_media_offer", "document_collection", "transport_arranged", "fee_collected"
]


class Tip(_EventBase):
    """A tip from a village channel, a hotline or a partner agency."""

    type: Literal["tip"] = "tip"
    category: TipCategory
    persons_involved: int = Field(ge=1, le=10_000)
    minors_involved: bool
    destination_country: CountryAlpha2 | None = None


class DepartureAnomaly(_EventBase):
    """A passport-office or checkpoint (TPI) anomaly; ``desa_code`` is the traveller's home village."""

    type: Literal["departure_anomaly"] = "departure_anomaly"
    checkpoint: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._-]{2,32}$")]
    traveller: Identifier
    age: int = Field(ge=0, le=120)
    sex: Literal["F", "M", "X"] = Field(description="As on the passport (ICAO 9303): F, M or X")
    declared_purpose: Purpose
    destination_country: CountryAlpha2
    indicators: Annotated[list[DepartureIndicator], Field(max_length=9)] = Field(default_factory=list)
    action: Literal["allowed", "delayed", "refused"]

    def identifiers(self) -> list[str | Reporter]:
        return [*super().identifiers(), self.traveller]


class RecruiterSighting(_EventBase):
    """Someone recruiting for work abroad, seen in or around a village."""

    type: Literal["recruiter_sighting"] = "recruiter_sighting"
    recruiter: Identifier
    activity: Annotated[list[RecruiterActivity], Field(max_length=5)] = Field(default_factory=list)
    persons_approached: int = Field(ge=0, le=10_000)
    promised_destination: CountryAlpha2 | None = None
    promised_job: Annotated[str, StringConstraints(max_length=200)] | None = None
    licensed_agency: bool | None = None

    def identifiers(self) -> list[str | Reporter]:
        return [*super().identifiers(), self.recruiter]

    def free_text(self) -> dict[str, str]:
        texts = super().free_text()
        return {**texts, "promised_job": self.promised_job} if self.promised_job else texts


InputEvent: TypeAlias = Tip | DepartureAnomaly | RecruiterSighting
Event: TypeAlias = Annotated[InputEvent, Field(discriminator="type")]
event_adapter: TypeAdapter[InputEvent] = TypeAdapter(Event)
"""Validates any input event by its ``type`` (batch items, and messages read off a topic)."""

EventTypeName: TypeAlias = Literal["tip", "departure_anomaly", "recruiter_sighting"]
"""The values of :class:`EventType`, for fields and settings that name an event type."""
MODELS: dict[str, type[InputEvent]] = {
    EventType.TIP: Tip,
    EventType.DEPARTURE_ANOMALY: DepartureAnomaly,
    EventType.RECRUITER_SIGHTING: RecruiterSighting,
}
"""The one map from event type to model; tests/schemas/test_events.py holds it, the enum and the alias equal."""
ADAPTERS: dict[str, TypeAdapter[Any]] = {name: TypeAdapter(model) for name, model in MODELS.items()}
"""One validator per type, built once: a TypeAdapter built per request costs more than the validation itself."""
