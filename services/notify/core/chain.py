"""The escalation chain of an incident, fixed when the incident opens (stored: ``adapters/valkey/chains.py``).

Who gets an incident (the Polres and Kanim of the village, the copies of an uncertain
jurisdiction, their parents) is resolved from the directory on first sight and stored; later
revisions, acknowledgement timers and the officer API use the stored chain, so a directory edit
never changes a running escalation (as PagerDuty and Grafana OnCall copy the policy).

A village no office of an agency holds goes to that agency's national desk; the chain keeps the
desk apart from the offices holding jurisdiction (``desks``) and names the agencies it stands in
for (``unrouted``), so the notice, the console and the metric can say why the desk got the case.
A chain stored before the desks existed reads back with neither.
"""

import json
from dataclasses import asdict, dataclass

from services.notify.core.directory import Directory


@dataclass(frozen=True)
class Chain:
    primary: tuple[str, ...]
    """At most one office per agency: the one holding jurisdiction over the village."""
    copies: tuple[str, ...] = ()
    """Other candidate offices when the village's jurisdiction is uncertain."""
    parents: tuple[str, ...] = ()
    """The Polda and Kanwil above the primary offices: CRITICAL at once, others when unacknowledged."""
    uncertain: bool = False
    desks: tuple[str, ...] = ()
    """National desks standing in for an agency with no office for the village (one per such agency)."""
    unrouted: tuple[str, ...] = ()
    """The agencies the directory has no office of for the village: their desks got it."""

    def members(self) -> list[str]:
        return list(dict.fromkeys((*self.primary, *self.desks, *self.copies, *self.parents)))


def resolve(directory: Directory, desa_code: str) -> Chain:
    """The chain the directory gives for a village today."""
    route = directory.route(desa_code)
    holding = [o for o in route.offices if o.agency not in route.fallback]
    parents = [o.parent for o in route.offices if o.parent is not None]
    return Chain(
        primary=tuple(o.id for o in holding),
        copies=tuple(o.id for o in route.also),
        parents=tuple(dict.fromkeys(parents)),
        uncertain=route.uncertain,
        desks=tuple(o.id for o in route.offices if o.agency in route.fallback),
        unrouted=route.fallback,
    )


def to_json(chain: Chain) -> str:
    """What is stored under the incident's chain key."""
    return json.dumps(asdict(chain))


def from_json(raw: bytes | str | None) -> Chain | None:
    """A stored chain; one stored before the desks existed reads back with neither desks nor unrouted."""
    if raw is None:
        return None
    data = json.loads(raw)
    return Chain(
        primary=tuple(data["primary"]),
        copies=tuple(data["copies"]),
        parents=tuple(data["parents"]),
        uncertain=bool(data["uncertain"]),
        desks=tuple(data.get("desks", ())),
        unrouted=tuple(data.get("unrouted", ())),
    )
