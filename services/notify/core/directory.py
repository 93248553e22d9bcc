"""The jurisdiction directory (CONTRACT §6): offices, their parents, prefixes and channels.

Validated as a whole when it loads, so that a typo in a parent id, two Polres claiming one
kabupaten or a code that is not a Kemendagri region stops notify at start instead of routing an
escalation to nobody (or to two offices) months later.

No report goes unheard (CONTRACT §6): every agency has one national desk (``fallback: true``)
that gets a village no office of that agency holds. A directory without a desk for an agency is
refused, not loaded with a warning: a warning at start is read once and forgotten, while each
escalation it lets through would end as a log line that nobody pages on.
"""

from dataclasses import dataclass
from typing import Annotated, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from schemas.escalation import Severity
from schemas.regions import region_table

Prefix = Annotated[str, StringConstraints(pattern=r"^\d{2}(\.\d{2}(\.\d{2}(\.\d{4})?)?)?$")]
OfficeId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{1,63}$")]
Agency = Literal["polri", "imigrasi"]


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

    id: OfficeId
    name: Annotated[str, StringConstraints(min_length=3, max_length=200)]
    agency: Agency
    parent: str | None = None
    jurisdiction: tuple[Prefix, ...] = ()
    token_sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
    channels: tuple[Channel, ...] = ()
    min_severity: Severity = Severity.MEDIUM
    fallback: bool = False
    """The agency's national desk: it holds no village and gets every village no office of its agency holds."""


class Uncertain(BaseModel):
    """A kabupaten-default prefix whose unlisted kecamatan may belong to other offices (DOMAIN §2.5).

    A village that routes to ``prefix`` itself (no kecamatan entry is more specific) is flagged
    "jurisdiction uncertain", and the ``also_notify`` offices get a copy with the same flag.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    prefix: Prefix
    agency: Agency
    also_notify: tuple[OfficeId, ...]
    note: Annotated[str, StringConstraints(max_length=500)] = ""


@dataclass(frozen=True)
class Route:
    """Where a village's escalations go: one office per agency, plus copies when uncertain."""

    offices: tuple[Office, ...]
    also: tuple[Office, ...] = ()
    uncertain: bool = False
    fallback: tuple[Agency, ...] = ()
    """The agencies whose office in ``offices`` is their national desk: no office of theirs holds the village."""


class Directory(BaseModel):
    """The YAML file: top-level keys ``offices`` and (optional) ``uncertain``."""

    model_config = ConfigDict(extra="forbid")

    offices: list[Office]
    uncertain: list[Uncertain] = []

    @model_validator(mode="after")
    def _consistent(self) -> "Directory":
        by_id = self._unique_ids()
        for office in self.offices:
            self._check_parent(office, by_id)
            self._check_codes(office.id, office.jurisdiction)
        self._check_prefix_owners()
        self._check_uncertain(by_id)
        self._check_desks()
        return self

    def _check_desks(self) -> None:
        """One national desk per agency, holding no prefix (else it would be a local office too and
        the notice could not say whether it got a case by jurisdiction or as the desk)."""
        for agency in get_args(Agency):
            desks = [o.id for o in self.offices if o.fallback and o.agency == agency]
            if not desks:
                raise ValueError(
                    f"no national desk for agency {agency}: add one office with fallback: true (CONTRACT §6), "
                    "or its escalations from villages outside the directory reach nobody"
                )
            if len(desks) > 1:
                raise ValueError(f"agency {agency} has {len(desks)} national desks ({', '.join(desks)}); at most one")
        for office in self.offices:
            if office.fallback and office.jurisdiction:
                raise ValueError(f"office {office.id}: a national desk (fallback: true) holds no jurisdiction prefix")

    def _unique_ids(self) -> dict[str, Office]:
        by_id: dict[str, Office] = {}
        for office in self.offices:
            if office.id in by_id:
                raise ValueError(f"two offices share the id {office.id!r}")
            by_id[office.id] = office
        return by_id

    @staticmethod
    def _check_parent(office: Office, by_id: dict[str, Office]) -> None:
        seen = {office.id}
        current = office
        while current.parent is not None:
            parent = by_id.get(current.parent)
            if parent is None:
                raise ValueError(f"office {current.id}: unknown parent {current.parent!r}")
            if parent.agency != current.agency:
                raise ValueError(f"office {current.id}: parent {parent.id!r} belongs to another agency")
            if parent.id in seen:
                raise ValueError(f"office {office.id}: its parents form a cycle through {parent.id!r}")
            seen.add(parent.id)
            current = parent

    @staticmethod
    def _check_codes(office_id: str, prefixes: tuple[str, ...]) -> None:
        table = region_table()
        for prefix in prefixes:
            if prefix not in table:
                raise ValueError(f"office {office_id}: jurisdiction code {prefix} is not in the region table")

    def _check_prefix_owners(self) -> None:
        owner: dict[tuple[str, str], str] = {}
        for office in self.offices:
            for prefix in office.jurisdiction:
                other = owner.setdefault((office.agency, prefix), office.id)
                if other != office.id:
                    raise ValueError(
                        f"offices {other} and {office.id} of agency {office.agency} both claim prefix {prefix}"
                    )

    def _check_uncertain(self, by_id: dict[str, Office]) -> None:
        for entry in self.uncertain:
            self._check_codes(f"uncertain[{entry.prefix}]", (entry.prefix,))
            if not any(o.agency == entry.agency and entry.prefix in o.jurisdiction for o in self.offices):
                raise ValueError(f"uncertain {entry.prefix}: no {entry.agency} office claims this prefix")
            for office_id in entry.also_notify:
                if office_id not in by_id:
                    raise ValueError(f"uncertain {entry.prefix}: unknown office {office_id!r} in also_notify")

    # -- queries --------------------------------------------------------------------------
    def office(self, office_id: str) -> Office:
        return next(o for o in self.offices if o.id == office_id)

    def get(self, office_id: str) -> Office | None:
        return next((o for o in self.offices if o.id == office_id), None)

    def children(self, office_id: str) -> list[Office]:
        """Every office below ``office_id`` (children, grandchildren…)."""
        found = [o for o in self.offices if o.parent == office_id]
        return found + [g for child in found for g in self.children(child.id)]

    def ancestors(self, office_id: str) -> list[Office]:
        """The parent, its parent, and so on."""
        office = self.office(office_id)
        return [] if office.parent is None else [self.office(office.parent), *self.ancestors(office.parent)]

    def desk(self, agency: str) -> Office:
        """The agency's national desk (validation guarantees there is one)."""
        return next(o for o in self.offices if o.fallback and o.agency == agency)

    def _best(self, desa_code: str) -> dict[str, tuple[str, Office]]:
        chosen: dict[str, tuple[str, Office]] = {}
        for office in self.offices:
            for prefix in office.jurisdiction:
                if desa_code == prefix or desa_code.startswith(prefix + "."):
                    best = chosen.get(office.agency)
                    if best is None or len(prefix) > len(best[0]):
                        chosen[office.agency] = (prefix, office)
        return chosen

    def route(self, desa_code: str) -> Route:
        """Per agency, the office whose prefix matches the village most specifically, else its national desk."""
        chosen = self._best(desa_code)
        unrouted = tuple(agency for agency in sorted(get_args(Agency)) if agency not in chosen)
        found = [office for _, office in chosen.values()] + [self.desk(agency) for agency in unrouted]
        offices = tuple(sorted(found, key=lambda office: office.agency))
        also: list[Office] = []
        for entry in self.uncertain:
            won = chosen.get(entry.agency)
            if won is not None and won[0] == entry.prefix:
                also += [self.office(i) for i in entry.also_notify if i != won[1].id]
        return Route(offices=offices, also=tuple(also), uncertain=bool(also), fallback=unrouted)
