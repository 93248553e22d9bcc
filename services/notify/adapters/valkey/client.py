"""The process's one Valkey client."""

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff

REDIS_CONNECTIONS = 64


def redis_client(url: str) -> Redis:
    """One client for the whole process. Its pool makes a burst wait for a free connection (up to 5 s)
    instead of failing with MaxConnectionsError; a broken connection (Valkey restarted) is
    replaced and the command retried twice at once, so a restart costs one failed command at most."""
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=REDIS_CONNECTIONS,
        timeout=5,
        socket_timeout=5,
        socket_connect_timeout=2,
        retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), 2),
    )
    return Redis(connection_pool=pool)


async def close(redis: Redis) -> None:
    await redis.aclose()
    await redis.connection_pool.disconnect()
