"""Acknowledgement timers in Valkey/Redis: a sorted set of due times, polled by every replica.

A member is ``<escalation_id>|<step>``. A replica claims due members atomically by pushing their
score one lease into the future, so two replicas never fire one timer at once, and a replica
that dies mid-way leaves the timer to be claimed again when the lease ends. Deliveries are
idempotent (notification log), so a re-fired step never pages an office twice.
"""

import time

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from services.common import valkey_keys

KEY = valkey_keys.TIMERS
_CLAIM = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, member in ipairs(due) do redis.call('ZADD', KEYS[1], ARGV[2], member) end
return due
"""


def member(escalation_id: str, step: int) -> str:
    return f"{escalation_id}|{step}"


def parse(raw: bytes | str) -> tuple[str, int]:
    text = raw.decode() if isinstance(raw, bytes) else raw
    escalation_id, _, step = text.rpartition("|")
    return escalation_id, int(step)


def schedule(pipe: Pipeline, escalation_id: str, step: int, due: float) -> None:
    """Set the timer unless it is set already (a replayed escalation never pushes it back); queued on ``pipe``."""
    pipe.zadd(KEY, {member(escalation_id, step): due}, nx=True)


async def claim(redis: Redis, lease_s: float, limit: int = 50) -> list[tuple[str, int]]:
    """The timers due now, leased to this replica."""
    now = time.time()
    due = await redis.eval(_CLAIM, 1, KEY, str(now), str(now + lease_s), str(limit))
    return [parse(m) for m in due]


async def advance(redis: Redis, escalation_id: str, step: int, next_due: float | None) -> None:
    """Step done: drop it and, when ``next_due`` is given, set the next one."""
    async with redis.pipeline(transaction=True) as pipe:
        pipe.zrem(KEY, member(escalation_id, step))
        if next_due is not None:
            pipe.zadd(KEY, {member(escalation_id, step + 1): next_due}, nx=True)
        await pipe.execute()


async def cancel(redis: Redis, escalation_ids: list[str], repeats: int) -> None:
    """Drop every timer of these escalations (acknowledged or resolved)."""
    members = [member(e, s) for e in escalation_ids for s in range(1, repeats + 1)]
    if members:
        await redis.zrem(KEY, *members)
