"""The record of event ids already published, in Valkey/Redis so it holds across replicas and restarts.

The record is written only after Kafka acknowledged the event: a publish that failed leaves no
record, and the client may retry the same ``event_id``.
"""

from uuid import UUID

from redis.asyncio import Redis

TTL_SECONDS = 90 * 24 * 3600
"""Kept 90 days: far past any client's retry horizon (Segment keeps ~24 h, Relay 1 h, both too short)."""


def _key(event_id: UUID) -> str:
    return f"waspada:ingest:published:{event_id}"


async def already_published(redis: Redis, event_id: UUID) -> bool:
    return bool(await redis.exists(_key(event_id)))


async def mark_published(redis: Redis, event_id: UUID) -> None:
    await redis.set(_key(event_id), b"1", ex=TTL_SECONDS)
