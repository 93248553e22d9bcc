"""Fixtures of the ingest tests: a channel registry of their own and ingest processes on the session's infra."""

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack.stack import Broker, Stack
from services.common import valkey_keys
from tests.brokers import PerBroker, broker_of, started

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
def ingest_infras(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PerBroker]:
    """A broker and a Valkey of the ingest tests' own, per broker: the thousands of events these
    tests publish must not land in the villages other tests watch for escalations."""

    def start_infra(stack: Stack) -> None:
        stack.start_broker()
        stack.start_valkey()

    def start(broker: Broker) -> Stack:
        return started(Stack(workdir=tmp_path_factory.mktemp(f"ingest-infra-{broker}"), broker=broker), start_infra)

    pool = PerBroker(start)
    yield pool
    pool.stop()


@pytest.fixture(scope="module")
def infra(request: pytest.FixtureRequest, ingest_infras: PerBroker) -> Stack:
    """The ingest tests' broker and Valkey of the module's broker (shadowing the suite's ``infra``)."""
    return ingest_infras.get(broker_of(request))


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
