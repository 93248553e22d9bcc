"""Rate limit and idempotency claims in Valkey/Redis, in one round trip per request.

One Lua script (atomic on the server, so it holds across ingest replicas):

1. the channel's fixed one-minute window: ``INCRBY`` the events of this request; past
   ``rate_per_minute`` the request is refused with the seconds left in the window (429).
   A request is admitted while the window still has room, so a batch may overshoot once.
2. for every event id: ``SET NX`` an *in-flight* claim, unique to this request, that lapses
   after ``inflight_ttl_s``; or, when the key exists, what it holds: ``p`` (published, so the
   answer is ``duplicate``) or another request's in-flight claim.

Two concurrent requests with one event id: exactly one wins the claim; the other waits
(polling) until the winner has either recorded the event as published (→ ``duplicate``) or
released its claim after a failed publish (→ it claims and publishes itself); if neither
happens before the publish deadline it answers 503 and the client retries. The published
record (``p``, 90 days) replaces the claim only after Kafka acknowledged: a publish that
failed leaves no record, so the client's retry is published.
"""

import asyncio
import itertools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from redis.asyncio import BlockingConnectionPool, Redis

from services.common import valkey_keys
from services.ingest.adapters.valkey_pipeline import AutoPipeline, Script
from services.ingest.core.errors import RateLimited

PUBLISHED_TTL_S = 90 * 24 * 3600
"""Kept 90 days, far past any client's retry horizon (Relay keeps 1 h, Segment ~24 h; both too short)."""
WINDOW_S = 60
POLL_S = 0.05
REDIS_CONNECTIONS = 32

_ADMIT = """
local limit, n = tonumber(ARGV[1]), tonumber(ARGV[2])
if limit > 0 then
  local count = redis.call('INCRBY', KEYS[1], n)
  local ttl = redis.call('TTL', KEYS[1])
  if ttl < 0 then redis.call('EXPIRE', KEYS[1], ARGV[3]); ttl = tonumber(ARGV[3]) end
  if count - n >= limit then return {-1, ttl} end
end
local out = {0}
for i = 2, #KEYS do
  if redis.call('SET', KEYS[i], ARGV[4], 'NX', 'EX', ARGV[5]) then
    out[#out + 1] = 'c'
  else
    out[#out + 1] = redis.call('GET', KEYS[i]) or 'i'
  end
end
return out
"""
_RECORD = """
for i = 1, #KEYS do redis.call('SET', KEYS[i], 'p', 'EX', ARGV[1]) end
return #KEYS
"""
_RELEASE = """
local released = 0
for i = 1, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[1] then redis.call('DEL', KEYS[i]); released = released + 1 end
end
return released
"""


class Claim(Enum):
    """Where an event id stands after an admission attempt."""

    CLAIMED = "claimed"  # this request owns it and must publish, then record or release it
    PUBLISHED = "published"  # Kafka acknowledged it before: answer duplicate
    IN_FLIGHT = "in_flight"  # another request owns it right now


@dataclass
class Ticket:
    """One request's claims: the token that proves ownership, and each event id's state."""

    token: str
    claims: dict[str, Claim]


def _claim(value: bytes) -> Claim:
    return {b"c": Claim.CLAIMED, b"p": Claim.PUBLISHED}.get(value, Claim.IN_FLIGHT)


class Admission:
    """The Redis side of taking events in: rate limit, claims, published records."""

    def __init__(self, redis: Redis, *, inflight_ttl_s: int) -> None:
        self.pipeline = AutoPipeline(redis)
        self.inflight_ttl_s = inflight_ttl_s
        self._admit = Script(self.pipeline, _ADMIT)
        self._release = Script(self.pipeline, _RELEASE)
        self._record = Script(self.pipeline, _RECORD)
        self._to_record: list[str] = []
        self._record_waiters: list[asyncio.Future[None]] = []
        self._tasks: set[asyncio.Task[object]] = set()
        self._replica = uuid.uuid4().hex[:12]
        self._sequence = itertools.count()

    async def admit(self, channel: str, rate_per_minute: int | None, event_ids: Sequence[str]) -> Ticket:
        """Count ``event_ids`` against the channel's rate, then try to claim each; RateLimited past the rate."""
        token = f"i:{self._replica}:{next(self._sequence)}"
        claims = await self._run(token, rate_per_minute or 0, len(event_ids), event_ids, channel)
        return Ticket(token, dict(zip(event_ids, claims, strict=True)))

    async def settle(self, ticket: Ticket, deadline: float) -> None:
        """Wait for ids another request holds until each is published or claimed by us, or the deadline."""
        loop = asyncio.get_running_loop()
        while waiting := [i for i, c in ticket.claims.items() if c is Claim.IN_FLIGHT]:
            if loop.time() >= deadline:
                return
            await asyncio.sleep(POLL_S)
            claims = await self._run(ticket.token, 0, 0, waiting, "")
            ticket.claims.update(zip(waiting, claims, strict=True))

    async def _run(self, token: str, limit: int, n: int, event_ids: Sequence[str], channel: str) -> list[Claim]:
        keys = [valkey_keys.ingest_rate(channel), *(valkey_keys.ingest_event(i) for i in event_ids)]
        args: list[str | int] = [limit, n, WINDOW_S, token, self.inflight_ttl_s]
        result = await self._admit(keys=keys, args=args)
        if result[0] == -1:
            raise RateLimited(int(result[1]))
        return [_claim(value) for value in result[1:]]

    async def record_published(self, event_ids: Sequence[str]) -> None:
        """Kafka acknowledged these: from now on they answer ``duplicate``."""
        if not event_ids:
            return
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()  # this request's own: cancelling it touches no other
        if not self._record_waiters:
            loop.call_soon(self._flush_records)
        self._to_record.extend(valkey_keys.ingest_event(i) for i in event_ids)
        self._record_waiters.append(waiter)
        await waiter

    def _flush_records(self) -> None:
        """One script call records the ids of every request that got its acknowledgement in this
        turn of the event loop: under load dozens share it, instead of a Redis command each."""
        keys, waiters = self._to_record, self._record_waiters
        self._to_record, self._record_waiters = [], []
        task = asyncio.get_running_loop().create_task(self._record(keys=keys, args=[PUBLISHED_TTL_S]))

        def resolve(finished: "asyncio.Task[object]") -> None:
            failed = None if finished.cancelled() else finished.exception()
            for waiter in waiters:
                if waiter.done():  # its request was cancelled
                    continue
                if finished.cancelled():
                    waiter.cancel()
                elif failed is not None:
                    waiter.set_exception(failed)
                else:
                    waiter.set_result(None)

        task.add_done_callback(resolve)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def release(self, token: str, event_ids: Sequence[str]) -> None:
        """Drop this request's claims (publish failed): the client may retry these ids."""
        if event_ids:
            await self._release(keys=[valkey_keys.ingest_event(i) for i in event_ids], args=[token])


def redis_pool(url: str, timeout_s: float) -> BlockingConnectionPool:
    """A pool that waits for a free connection (up to the publish timeout) instead of raising
    MaxConnectionsError: requests share connections through ``AutoPipeline``, so a handful is
    plenty, and a wait that runs out is a ConnectionError, answered 503 like any Redis error."""
    return BlockingConnectionPool.from_url(
        url,
        max_connections=REDIS_CONNECTIONS,
        timeout=timeout_s,
        socket_timeout=timeout_s,
        socket_connect_timeout=2,
    )
