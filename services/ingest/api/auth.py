"""The channel of a request's bearer token.

A plain function call rather than a FastAPI dependency: a sync dependency would run in the thread
pool on every request, and the POST routes bypass FastAPI's routing anyway (``api/fast_path.py``).
"""

from services.ingest.api.body import Headers
from services.ingest.core.channels import Channel, ChannelRegistry
from services.ingest.core.errors import Refusal

MAX_KNOWN_HEADERS = 1024
"""Spellings of valid Authorization headers remembered (``authenticate``): a cap, in case of many."""


def authenticate(registry: ChannelRegistry, headers: Headers, known: dict[bytes, Channel] | None = None) -> Channel:
    """The channel of the bearer token, or a 401 Refusal.

    ``known`` remembers the Authorization headers that named a channel (so, bounded by the
    registry's tokens, never by what clients send): hashing every request's token costs more
    than looking the header up.
    """
    header = headers.get(b"authorization", b"")
    if known is not None and (hit := known.get(header)) is not None:
        return hit
    scheme, _, token = header.decode("latin-1").partition(" ")
    channel = registry.by_token(token.strip()) if scheme.lower() == "bearer" else None
    if channel is None:
        raise Refusal(401, "missing or unknown bearer token", {"WWW-Authenticate": "Bearer"})
    if known is not None and len(known) < MAX_KNOWN_HEADERS:
        known[header] = channel
    return channel
