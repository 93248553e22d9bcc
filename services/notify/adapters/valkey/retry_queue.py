"""The durable retry queue: deliveries whose quick attempts failed, parked in Valkey until due.

A sorted set of delivery ids scored by due time, and a hash of their bodies (what to send, to
whom, how many attempts so far). A replica claims due ids atomically by pushing their score one
lease into the future (as the acknowledgement timers do), so two replicas never attempt one
delivery at once, and a replica that dies mid-attempt leaves it to be claimed again when the
lease ends. Parking lets the consumer commit its batch while a receiver is down without losing
the delivery; a restart of notify finds the queue where it was.
"""

from redis.asyncio import Redis

from services.common import valkey_keys

DUE = valkey_keys.RETRY_DUE
BODIES = valkey_keys.RETRY_BODIES
_CLAIM = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
for _, member in ipairs(due) do
  redis.call('ZADD', KEYS[1], ARGV[2], member)
  local body = redis.call('HGET', KEYS[2], member)
  if body then
    table.insert(out, member)
    table.insert(out, body)
  else
    redis.call('ZREM', KEYS[1], member)
  end
end
return out
"""
_QUEUE_NEW = """
if redis.call('ZADD', KEYS[1], 'NX', ARGV[2], ARGV[1]) == 1 then
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
  return 1
end
return 0
"""


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


async def park(redis: Redis, delivery_id: str, body: str, due: float) -> None:
    """Queue (or re-queue) a delivery for an attempt at ``due`` (Unix seconds)."""
    async with redis.pipeline(transaction=True) as pipe:
        pipe.hset(BODIES, delivery_id, body)
        pipe.zadd(DUE, {delivery_id: due})
        await pipe.execute()


async def park_new(redis: Redis, delivery_id: str, body: str, due: float) -> bool:
    """Queue a delivery unless it is queued already; True when it was not.

    A redelivery requested twice must not move the due time of one a replica is attempting (its
    score is then one lease ahead): another replica could claim it meanwhile.
    """
    return bool(await redis.eval(_QUEUE_NEW, 2, DUE, BODIES, delivery_id, str(due), body))


async def claim(redis: Redis, now: float, lease_s: float, limit: int) -> list[tuple[str, str]]:
    """The deliveries due at ``now``, leased to this replica: (id, body) pairs."""
    if limit <= 0:
        return []
    flat = await redis.eval(_CLAIM, 2, DUE, BODIES, str(now), str(now + lease_s), str(limit))
    return [(_text(flat[i]), _text(flat[i + 1])) for i in range(0, len(flat), 2)]


async def done(redis: Redis, delivery_id: str) -> None:
    """Settled (delivered, dead-lettered or dropped): out of the queue."""
    async with redis.pipeline(transaction=True) as pipe:
        pipe.zrem(DUE, delivery_id)
        pipe.hdel(BODIES, delivery_id)
        await pipe.execute()


async def size(redis: Redis) -> int:
    return int(await redis.zcard(DUE))
