"""Fixtures of the triage tests: the shipped policy, event factories, a village to feed events to."""

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from devstack.stack import Stack
from schemas.events import InputEvent, event_adapter
from services.common.settings import CONFIG_DIR
from services.triage.decide import Decision, decide
from services.triage.incidents import Arrival
from services.triage.policy import Policy, load_policy
from services.triage.state import VillageState

LONTAR = "36.04.13.2007"
NOW = datetime.now(UTC).replace(microsecond=0) - timedelta(days=10)
"""Ten days ago: tests can move forward in time without landing in the future."""


def person(n: int) -> str:
    """A well-formed pseudonym, distinct per ``n``."""
    return f"psn_{n:032x}"


def tip(**fields: Any) -> InputEvent:
    body = {"type": "tip", "category": "other", "persons_involved": 1, "minors_involved": False, **fields}
    return _event(body)


def departure(**fields: Any) -> InputEvent:
    body = {
        "type": "departure_anomaly",
        "checkpoint": "TPI-SOETTA",
        "traveller": person(1),
        "age": 27,
        "sex": "F",
        "declared_purpose": "tourism",
        "destination_country": "MY",
        "indicators": ["one_way_ticket"],
        "action": "delayed",
        **fields,
    }
    return _event(body)


def sighting(**fields: Any) -> InputEvent:
    body = {"type": "recruiter_sighting", "recruiter": person(900), "activity": [], "persons_approached": 0, **fields}
    return _event(body)


def _event(body: dict[str, Any]) -> InputEvent:
    base = {"event_id": str(uuid.uuid4()), "occurred_at": NOW.isoformat(), "desa_code": LONTAR}
    return event_adapter.validate_python({**base, **body})


class Village:
    """Feeds events to ``decide`` the way the agent does, keeping the state as serialised bytes."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.raw: bytes | None = None
        self.published: list[bytes] = []

    def feed(
        self, event: InputEvent, channel: str | None = None, at: datetime | None = None, position: str | None = None
    ) -> Decision:
        arrival = Arrival(record_time=at or NOW, channel=channel, received_at=None, position=position)
        decision = decide(self.policy, VillageState.load(self.raw), event, arrival)
        if decision.state is not None:
            self.raw = decision.state.dump()
        if decision.body is not None:
            self.published.append(decision.body)
        if decision.replay is not None:
            self.published.append(decision.replay)
        return decision

    @property
    def state(self) -> VillageState:
        return VillageState.load(self.raw)


@pytest.fixture(scope="session")
def policy() -> Policy:
    return load_policy(CONFIG_DIR / "policy.yaml")


@pytest.fixture
def village(policy: Policy) -> Village:
    return Village(policy)


def triage_only(workdir: Path) -> Stack:
    """A stack with a broker of its own; triage needs no Valkey, so none is started."""
    return Stack(workdir=workdir, redis_url="redis://127.0.0.1:1/0", extra_env={"WASPADA_TRIAGE_STALL_AFTER_S": "20"})


@pytest.fixture(scope="module")
def triage_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A broker of its own and one triage worker, shared by one test module."""
    stack = triage_only(tmp_path_factory.mktemp("triage"))
    stack.start_broker()
    stack.start_service("triage")
    yield stack
    stack.stop()


@pytest.fixture(scope="module")
def broker_only(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A broker of its own, no service, shared by one test module."""
    stack = triage_only(tmp_path_factory.mktemp("broker"))
    stack.start_broker()
    yield stack
    stack.stop()


def event_body(kind: str, desa_code: str = LONTAR, **fields: Any) -> dict[str, Any]:
    """A JSON body as a publisher would send it (the factories above, dumped)."""
    factory = {"tip": tip, "departure_anomaly": departure, "recruiter_sighting": sighting}[kind]
    event = factory(desa_code=desa_code, **fields)
    body: dict[str, Any] = json.loads(event.model_dump_json())
    return body
