"""Reading a request body as JSON with the contract's statuses: 415, 413, 400.

FastAPI's body parameter would answer 422 for all of these; the contract wants each failure
told apart. Both the body on the wire and the decompressed body are capped at 1 MiB, so a
small gzip bomb cannot make ingest inflate gigabytes. Works on the raw ASGI ``receive`` so the
fast path (``app.FastPath``) and FastAPI's routes share it.
"""

import zlib
from typing import Any

import orjson
from starlette.types import Receive

from services.ingest.core.errors import Refusal

MAX_BODY = 1024 * 1024
DRAIN_LIMIT = 16 * MAX_BODY
ENCODINGS = (b"identity", b"gzip")
Headers = dict[bytes, bytes]


def _refuse_type(headers: Headers) -> bytes:
    """The content encoding, after refusing (415) anything but JSON in identity or gzip."""
    media_type = headers.get(b"content-type", b"").split(b";", 1)[0].strip().lower()
    if media_type != b"application/json":
        raise Refusal(415, "body must be application/json")
    encoding = headers.get(b"content-encoding", b"identity").strip().lower()
    if encoding not in ENCODINGS:
        shown = encoding[:32].decode(errors="replace")
        raise Refusal(415, f"Content-Encoding {shown!r} is not supported: send identity or gzip")
    return encoding


async def _read_capped(headers: Headers, receive: Receive) -> bytes:
    length = headers.get(b"content-length", b"")
    if length.isdigit() and int(length) > MAX_BODY:
        await _drain(receive, int(length))
        raise Refusal(413, "body over 1 MiB")
    chunks, size, more = [], 0, True
    while more:
        message = await receive()
        if message["type"] != "http.request":  # the client went away
            raise Refusal(400, "request body incomplete")
        chunk = message.get("body", b"")
        size += len(chunk)
        chunks.append(chunk)
        more = message.get("more_body", False)
        if size > MAX_BODY:
            if more:
                await _drain(receive, size)
            raise Refusal(413, "body over 1 MiB")
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def _drain(receive: Receive, declared: int) -> None:
    """Read and drop the rest of a too-large body (up to DRAIN_LIMIT), so the client reads our 413
    instead of a broken pipe; beyond that the connection is simply closed after the answer."""
    if declared > DRAIN_LIMIT:
        return
    read, more = 0, True
    while more and read <= DRAIN_LIMIT:
        message = await receive()
        read += len(message.get("body", b""))
        more = message["type"] == "http.request" and message.get("more_body", False)


def gunzip_capped(data: bytes, limit: int = MAX_BODY) -> bytes:
    """Inflate a gzip body, refusing (413) once it would pass ``limit`` and (400) a corrupt one."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, limit + 1)
    except zlib.error:
        raise Refusal(400, "body is not valid gzip") from None
    if len(out) > limit or inflater.unconsumed_tail:
        raise Refusal(413, "decompressed body over 1 MiB")
    if not inflater.eof:
        raise Refusal(400, "gzip body is truncated")
    return out


async def read_json(headers: Headers, receive: Receive) -> Any:
    """The parsed JSON body, or a Refusal with 415, 413 or 400."""
    encoding = _refuse_type(headers)
    data = await _read_capped(headers, receive)
    if encoding == b"gzip":
        data = gunzip_capped(data)
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise Refusal(400, f"unparseable JSON: {exc}") from None
