"""The escalation chain of an incident, fixed when the incident opens.

Who gets an incident (the Polres and Kanim of the village, the copies of an uncertain
jurisdiction, their parents) is resolved from the directory on first sight and stored; later
revisions, acknowledgement timers and the officer API use the stored chain, so a directory edit
never changes a running escalation (as PagerDuty and Grafana OnCall copy the policy).
"""

import json
from dataclasses import asdict, dataclass

from redis.asyncio import Redis

from schemas.escalation import Escalation
from services.notify.directory import Directory
from services.notify.store import PREFIX


@dataclass(frozen=True)
class Chain:
    primary: tuple[str, ...]
    """One office per agency: the one holding jurisdiction over the village."""
    copies: tuple[str, ...] = ()
    """Other candidate offices when the village's jurisdiction is uncertain."""
    parents: tuple[str, ...] = ()
    """The Polda and Kanwil above the primary offices: CRITICAL at once, others when unacknowledged."""
    uncertain: bool = False

    def members(self) -> list[str]:
        return list(dict.fromkeys((*self.primary, *self.copies, *self.parents)))


def resolve(directory: Directory, desa_code: str) -> Chain:
    """The chain the directory gives for a village today."""
    route = directory.route(desa_code)
    parents = [o.parent for o in route.offices if o.parent is not None]
    return Chain(
        primary=tuple(o.id for o in route.offices),
        copies=tuple(o.id for o in route.also),
        parents=tuple(dict.fromkeys(parents)),
        uncertain=route.uncertain,
    )


def _key(incident_id: str) -> str:
    return f"{PREFIX}:chain:{incident_id}"


async def chain_for(redis: Redis, directory: Directory, escalation: Escalation) -> Chain:
    """The incident's stored chain; stored now from the directory if this is its first sight (one round trip)."""
    fresh = resolve(directory, escalation.desa_code)
    async with redis.pipeline(transaction=True) as pipe:
        pipe.set(_key(escalation.incident_id), json.dumps(asdict(fresh)), nx=True)
        pipe.get(_key(escalation.incident_id))
        _, raw = await pipe.execute()
    return _load(raw) or fresh


async def stored(redis: Redis, incident_id: str) -> Chain | None:
    return _load(await redis.get(_key(incident_id)))


def _load(raw: bytes | str | None) -> Chain | None:
    if raw is None:
        return None
    data = json.loads(raw)
    return Chain(
        primary=tuple(data["primary"]),
        copies=tuple(data["copies"]),
        parents=tuple(data["parents"]),
        uncertain=bool(data["uncertain"]),
    )
