"""services/ingest/adapters/http_server.py: one turn's writes reach the socket as one."""

import asyncio


class _Recording:
    """A transport that records what reaches the socket (pure logic: no event loop I/O)."""

    def __init__(self) -> None:
        self.written: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.written.append(data)

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_extra_info(self, name: str) -> str:
        return f"info:{name}"


def test_corked_transport_writes_one_turns_writes_as_one_and_flushes_before_close() -> None:

    from services.ingest.adapters.http_server import CorkedTransport, TurnFlusher

    async def scenario() -> _Recording:
        raw = _Recording()
        corked = CorkedTransport(raw, TurnFlusher(asyncio.get_running_loop()))  # type: ignore[arg-type]
        corked.write(b"HTTP/1.1 202 Accepted\r\n\r\n")
        corked.write(b"{}")
        assert raw.written == []  # not before the loop's next turn
        await asyncio.sleep(0)
        assert raw.written == [b"HTTP/1.1 202 Accepted\r\n\r\n{}"]
        corked.write(b"last")
        corked.close()  # what was written before close still goes out, first
        assert raw.written[-1] == b"last" and raw.closed
        await asyncio.sleep(0)
        assert corked.get_extra_info("peername") == "info:peername"
        return raw

    assert len(asyncio.run(scenario()).written) == 2
