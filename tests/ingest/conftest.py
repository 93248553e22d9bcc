"""Fixtures of the ingest tests: a channel registry of their own and ingest processes on the session's infra."""

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack.stack import Stack
from services.common import valkey_keys

TOKENS = {
    "open": "open-channel-token-for-tests",
    "limited": "limited-channel-token-for-tests",
    "banten": "banten-channel-token-for-tests",
}
RATE_LIMIT = 5


def write_channels(path: Path) -> Path:
    """A registry: ``open`` (everything, no rate), ``limited`` (5 per minute), ``banten`` (tips in Banten only)."""
    rows = {
        "open": ("[tip, departure_anomaly, recruiter_sighting]", '["*"]', None),
        "limited": ("[tip]", '["*"]', RATE_LIMIT),
        "banten": ("[tip]", '["36"]', None),
    }
    text = "channels:\n"
    for name, (types, regions, rate) in rows.items():
        digest = hashlib.sha256(TOKENS[name].encode()).hexdigest()
        text += f"  - id: {name}\n    token_sha256: {digest}\n    allowed_types: {types}\n"
        text += f"    allowed_regions: {regions}\n" + (f"    rate_per_minute: {rate}\n" if rate else "")
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def infra(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A broker and a Valkey of the ingest tests' own (shadowing the suite's ``infra``): the thousands
    of events these tests publish must not land in the villages other tests watch for escalations."""
    stack = Stack(workdir=tmp_path_factory.mktemp("ingest-infra"))
    stack.start_broker()
    stack.start_valkey()
    yield stack
    stack.stop()


def ingest_on(infra: Stack, workdir: Path, **env: str) -> Stack:
    """One ingest process on the session's broker and Valkey, with the test registry."""
    stack = infra.sharing(workdir)
    stack.channels = write_channels(workdir / "channels.yaml")
    stack.extra_env = {"WASPADA_LOG_LEVEL": "DEBUG", **env}
    stack.start_service("ingest")
    return stack


@pytest.fixture(scope="module")
def ingest(infra: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """An ingest process for this module (its log is ``<workdir>/ingest.log``)."""
    stack = ingest_on(infra, tmp_path_factory.mktemp("ingest"))
    yield stack
    stack.stop()


@pytest.fixture
def fresh_rate(infra: Stack) -> None:
    """Start the ``limited`` channel's rate window afresh (other tests may have used it this minute)."""
    import redis

    assert infra.redis_url
    redis.Redis.from_url(infra.redis_url).delete(valkey_keys.ingest_rate("limited"))
