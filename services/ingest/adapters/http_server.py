"""uvicorn's httptools protocol, with each response written to the socket in one piece.

uvicorn writes a response's status line and headers as soon as the application sends
``http.response.start``, then the body on ``http.response.body``: two ``send`` syscalls and two
TCP segments per response, and the client wakes up twice. On loopback a syscall costs more CPU
than anything ingest does between the two. Here the connection's writes are gathered until the
event loop's next turn (one ``call_soon`` for all connections) and go out as one: the two halves
of a response meet, and nothing waits longer than the current turn of the loop.
"""

import asyncio
from typing import Any, ClassVar, cast

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class TurnFlusher:
    """Flushes, once per turn of the event loop, every transport written to in that turn (one callback for all)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._dirty: list[CorkedTransport] = []

    def mark(self, transport: "CorkedTransport") -> None:
        if not self._dirty:
            self.loop.call_soon(self._run)
        self._dirty.append(transport)

    def _run(self) -> None:
        dirty, self._dirty = self._dirty, []
        for transport in dirty:
            transport.flush()


class CorkedTransport:
    """A transport whose ``write``s within one turn of the event loop reach the socket as one write."""

    __slots__ = ("_flusher", "_pending", "_transport")

    def __init__(self, transport: asyncio.Transport, flusher: TurnFlusher) -> None:
        self._transport = transport
        self._flusher = flusher
        self._pending: list[bytes] | None = None

    def write(self, data: bytes) -> None:
        if self._pending is None:
            self._pending = [data]
            self._flusher.mark(self)
        else:
            self._pending.append(data)

    def flush(self) -> None:
        pending, self._pending = self._pending, None
        if pending and not self._transport.is_closing():
            self._transport.write(pending[0] if len(pending) == 1 else b"".join(pending))

    def close(self) -> None:
        self.flush()  # what was written before close still goes out, as the plain transport does
        self._transport.close()

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def abort(self) -> None:
        self._pending = None
        self._transport.abort()

    def __getattr__(self, name: str) -> Any:  # is_closing, get_extra_info, pause_reading, …
        return getattr(self._transport, name)


class CorkedHttpToolsProtocol(HttpToolsProtocol):
    """``HttpToolsProtocol`` over a ``CorkedTransport``; passed to uvicorn as ``http=``."""

    _flushers: ClassVar[dict[asyncio.AbstractEventLoop, TurnFlusher]] = {}

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        flusher = self._flushers.get(self.loop)
        if flusher is None:
            flusher = self._flushers[self.loop] = TurnFlusher(self.loop)
        corked = CorkedTransport(cast(asyncio.Transport, transport), flusher)
        super().connection_made(cast(asyncio.Transport, corked))
