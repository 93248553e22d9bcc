"""The Desa Binaan registry (``config/desa_binaan.yaml``, CONTRACT §12), validated against the region table
and the directory.

The analytics rank areas partly by whether they are already in the programme ("not yet Desa Binaan"
is a reason to hold the next sosialisasi there), so a misspelled code must stop the service rather
than silently make a designated village look uncovered.
"""

import re
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from schemas.events import DesaCode
from services.common.config_files import read_config
from services.notify.core.directory import Directory

_PARTIAL_DATE = re.compile(r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$")


def _partial_date(value: str) -> str:
    if not _PARTIAL_DATE.match(value):
        raise ValueError("expected YYYY-MM-DD, YYYY-MM or YYYY (as precise as the source)")
    return value


PartialDate = Annotated[str, AfterValidator(_partial_date)]


class Designation(BaseModel):
    """One village in the programme, with the office that runs it and the public source that says so."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    desa_code: DesaCode
    office: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    designated_on: PartialDate
    source: Annotated[str, StringConstraints(min_length=8, max_length=1000)]


class DesaBinaan(BaseModel):
    """The whole file: each village at most once."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1]
    villages: list[Designation] = Field(default_factory=list)

    @model_validator(mode="after")
    def _once_each(self) -> "DesaBinaan":
        seen: set[str] = set()
        for index, village in enumerate(self.villages):
            if village.desa_code in seen:
                raise ValueError(f"villages.{index}: {village.desa_code} is listed twice")
            seen.add(village.desa_code)
        return self

    def codes(self) -> frozenset[str]:
        return frozenset(v.desa_code for v in self.villages)

    def in_area(self, prefix: str) -> int:
        """How many designated villages lie in the area whose code starts with ``prefix`` (a village: 0 or 1)."""
        return sum(1 for v in self.villages if v.desa_code.startswith(prefix))


class WrongOffice(ValueError):
    """A designation names an office other than the Kantor Imigrasi the directory gives the village."""


def load(path: Path, kanim_of: Callable[[str], str | None]) -> DesaBinaan:
    """The registry at ``path``, each village's office checked against ``kanim_of(desa_code)`` (the Kantor
    Imigrasi the directory routes it to, None when only the national desk holds it).

    ConfigFileError (from ``read_config``) or WrongOffice, naming the file and the entry.
    """
    registry = read_config(path, DesaBinaan)
    for index, village in enumerate(registry.villages):
        holder = kanim_of(village.desa_code)
        if village.office != holder:
            held = f"the directory gives it to {holder}" if holder else "no Kantor Imigrasi of the directory holds it"
            raise WrongOffice(
                f"{path}: villages.{index}.office: {village.office!r} for {village.desa_code}, but {held}"
            )
    return registry


def kanim_of(directory: Directory) -> Callable[[str], str | None]:
    """The Kantor Imigrasi that holds a village in ``directory`` (not its national desk)."""

    def holder(desa_code: str) -> str | None:
        route = directory.route(desa_code)
        if "imigrasi" in route.fallback:
            return None
        return next(o.id for o in route.offices if o.agency == "imigrasi")

    return holder
