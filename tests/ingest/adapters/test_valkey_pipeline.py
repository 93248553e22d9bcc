"""services/ingest/adapters/valkey_pipeline.py: commands packed on the wire exactly as redis-py packs them."""

import pytest


def test_autopipeline_packs_commands_as_redis_py_does() -> None:
    from redis.asyncio.connection import Connection

    from services.ingest.adapters.valkey_pipeline import pack

    commands = [
        ("EVALSHA", "0" * 40, 2, "waspada:ingest:rate:x", "waspada:ingest:event:é", 0, 1, 60, "i:ab:1", 60),
        ("SET", b"k\xff\r\n", "p", "EX", 7776000),
        ("INCRBYFLOAT", "k", 1.5),
    ]
    assert pack(commands) == b"".join(Connection().pack_commands(commands))
    with pytest.raises(TypeError):
        pack([("SET", "k", None)])
