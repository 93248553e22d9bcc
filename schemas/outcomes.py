"""The resolution of an escalation (CONTRACT §11), on ``waspada.outcomes.v1`` keyed by ``desa_code``.

notify publishes one when an office resolves an escalation; triage reads it on the same partition
as the village's events (same key, same partition count) and closes the incident, so the next
event of that village opens a new incident that pages again instead of being folded into a case
the officers consider closed.
"""

from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from schemas.events import DesaCode


class Outcome(StrEnum):
    """What the case turned out to be (CONTRACT §11)."""

    TPPO_CONFIRMED = "tppo_confirmed"
    TPPM_CONFIRMED = "tppm_confirmed"
    PMI_NONPROCEDURAL_PREVENTED = "pmi_nonprocedural_prevented"
    REFERRED_OTHER_AGENCY = "referred_other_agency"
    NO_OFFENCE_FOUND = "no_offence_found"
    FALSE_REPORT = "false_report"
    DUPLICATE = "duplicate"


class Resolution(BaseModel):
    """An office closed an incident: every revision up to ``revision`` is resolved."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    escalation_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    incident_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    revision: int = Field(ge=1, description="The revision the office resolved")
    desa_code: DesaCode
    outcome: Outcome | None = Field(default=None, description="Not yet asked for by every resolve path")
    resolved_by: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    resolved_at: AwareDatetime
    rules: list[Annotated[str, StringConstraints(max_length=64)]] = Field(
        default_factory=list, description="The rules that fired on the incident"
    )
