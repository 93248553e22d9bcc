"""Each incident's escalation chain in Valkey, written once on first sight (SET NX) and read back after.

A directory edit never changes a running escalation: later revisions, acknowledgement timers and
the officer API use the chain stored here (``core/chain.py`` says what a chain is).
"""

from redis.asyncio import Redis

from schemas.escalation import Escalation
from services.common import valkey_keys
from services.notify.core.chain import Chain, from_json, resolve, to_json
from services.notify.core.directory import Directory


async def chain_for(redis: Redis, directory: Directory, escalation: Escalation) -> Chain:
    """The incident's stored chain; stored now from the directory if this is its first sight (one round trip)."""
    fresh = resolve(directory, escalation.desa_code)
    async with redis.pipeline(transaction=True) as pipe:
        pipe.set(valkey_keys.chain(escalation.incident_id), to_json(fresh), nx=True)
        pipe.get(valkey_keys.chain(escalation.incident_id))
        _, raw = await pipe.execute()
    return from_json(raw) or fresh


async def stored(redis: Redis, incident_id: str) -> Chain | None:
    return from_json(await redis.get(valkey_keys.chain(incident_id)))
