"""Redis commands issued by concurrent requests, sent together: one pipeline per round trip.

redis-py sends each command on its own: a connection from the pool, a write, a read, a retry
wrapper, a wake-up, per command. At thousands of requests per second that costs more CPU, in
ingest and in Valkey, than everything else a request does. Here every command issued while the
previous pipeline is in flight waits for the next one, so under load one round trip carries the
commands of dozens of requests, and when idle a command goes out at once.

The round trips go over one connection of the AutoPipeline's own (they are sent one after the
other anyway), written and read directly: redis-py's pipeline takes a pooled connection through a
condition and a lock, and starts a task and a timer for the write and a timer for every reply,
which cost more than the commands. One timer bounds the whole round trip instead.
"""

import asyncio
import hashlib
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.connection import AbstractConnection
from redis.exceptions import NoScriptError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

Command = tuple[Any, ...]


def pack(commands: list[Command]) -> bytes:
    """The commands in RESP, as redis-py's ``pack_commands`` writes them (str as UTF-8, int and float
    in decimal), at a third of its cost: the arguments here are only ever str, bytes and int."""
    out: list[bytes] = []
    for args in commands:
        out.append(b"*%d\r\n" % len(args))
        for arg in args:
            if isinstance(arg, bytes):
                data = arg
            elif isinstance(arg, str):
                data = arg.encode()
            elif isinstance(arg, int | float) and not isinstance(arg, bool):
                data = repr(arg).encode()
            else:
                raise TypeError(f"cannot send a {type(arg).__name__} to Redis")
            out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


class AutoPipeline:
    """``await call(*args)`` like ``redis.execute_command``, batched with its neighbours."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        pool = redis.connection_pool
        self.timeout: float = pool.connection_kwargs.get("socket_timeout") or 5.0
        """A round trip that takes longer fails (every command of it) and the connection is dropped."""
        # the pool's settings (address, password, db, connect timeout) without its per-read timeout
        self._connection: AbstractConnection = pool.connection_class(
            **{**pool.connection_kwargs, "socket_timeout": None}
        )
        self._queue: list[tuple[Command, asyncio.Future[Any]]] = []
        self._flusher: asyncio.Task[None] | None = None

    def call(self, *args: Any) -> "asyncio.Future[Any]":
        """Queue one command; the future resolves to its reply (or its error)."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.append((args, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.get_running_loop().create_task(self._flush())
        return future

    async def _flush(self) -> None:
        while self._queue:
            batch, self._queue = self._queue, []
            try:
                replies = await self._send([args for args, _ in batch])
            except Exception as exc:  # the connection failed: every command of the batch fails
                replies = [exc] * len(batch)
            for (_, future), reply in zip(batch, replies, strict=True):
                if future.done():
                    continue
                if isinstance(reply, BaseException):
                    future.set_exception(reply)
                else:
                    future.set_result(reply)

    async def _send(self, commands: list[Command]) -> list[Any]:
        """Every command's reply, or its ResponseError; raises (and disconnects) when the round trip fails."""
        connection = self._connection
        replies: list[Any] = []
        try:
            async with asyncio.timeout(self.timeout):
                await connection.send_packed_command(pack(commands), check_health=False)
                for _ in commands:
                    try:
                        replies.append(await connection.read_response())
                    except ResponseError as exc:  # this command's error reply; the next replies follow
                        replies.append(exc)
        except BaseException as exc:
            await connection.disconnect(nowait=True)  # a reply may be half read: never reuse the connection
            if isinstance(exc, TimeoutError):
                raise RedisTimeoutError("Redis did not answer in time") from None
            raise
        return replies

    async def aclose(self) -> None:
        await self._connection.disconnect()


class Script:
    """A Lua script run with EVALSHA through an AutoPipeline, loaded again if Redis forgot it."""

    def __init__(self, pipeline: AutoPipeline, source: str) -> None:
        self.pipeline = pipeline
        self.source = source
        self.sha = hashlib.sha1(source.encode()).hexdigest()

    async def __call__(self, keys: list[str], args: list[str | int]) -> Any:
        try:
            return await self.pipeline.call("EVALSHA", self.sha, len(keys), *keys, *args)
        except NoScriptError:  # first use, or Redis restarted
            await self.pipeline.redis.script_load(self.source)
            return await self.pipeline.call("EVALSHA", self.sha, len(keys), *keys, *args)
