"""The live village states: a step that raises half-way leaves its village as it was (``Villages.change``)."""

from functools import partial
from types import SimpleNamespace
from typing import Any

import pytest

from services.triage.decide import decide
from services.triage.incidents import Arrival
from services.triage.policy import Policy
from services.triage.state import VillageState
from services.triage.villages import Villages
from tests.triage.conftest import LONTAR, NOW, tip

KEY = LONTAR.encode()


class _Table:
    """The part of the village table ``Villages`` reads: stored bytes and the changelog's name."""

    changelog_topic = SimpleNamespace(get_topic_name=lambda: "villages-changelog")

    def __init__(self) -> None:
        self.data: dict[bytes, bytes] = {}

    def get(self, key: bytes) -> bytes | None:
        return self.data.get(key)


def _villages() -> Villages:
    return Villages(_Table(), outbox=None)  # type: ignore[arg-type]  # nothing is written in these tests


def test_a_bug_after_decide_changed_the_state_leaves_the_village_as_it_was(policy: Policy) -> None:
    villages = _villages()
    arrival = Arrival(record_time=NOW, channel="sms", received_at=None, position="t:0:1")
    first = tip(category="recruitment_offer", destination_country="MY")
    assert villages.change(KEY, lambda state: decide(policy, state, first, arrival)).outcome != "duplicate"
    before = villages.get(KEY).dump()
    second = tip(category="online_scam_job", destination_country="KH", minors_involved=True)

    def decide_then_fail(state: VillageState) -> Any:
        decide(policy, state, second, arrival)  # remembers the event, folds it, maybe escalates
        raise RuntimeError("a bug after the state was changed")

    with pytest.raises(RuntimeError):
        villages.change(KEY, decide_then_fail)
    assert villages.get(KEY).dump() == before
    # the dead-lettered event, sent again once the bug is fixed, counts: it is not a duplicate
    assert villages.change(KEY, lambda state: decide(policy, state, second, arrival)).outcome == "escalated"


def test_a_step_that_succeeds_changes_the_live_state_in_place(policy: Policy) -> None:
    villages = _villages()
    event = tip()
    arrival = Arrival(record_time=NOW, channel=None, received_at=None, position=None)
    villages.change(KEY, lambda state: decide(policy, state, event, arrival))
    assert str(event.event_id) in villages.get(KEY).ids()


def test_the_rollback_replays_the_steps_since_the_last_write_on_the_written_state(policy: Policy) -> None:
    villages = _villages()
    arrival = Arrival(record_time=NOW, channel="sms", received_at=None, position="t:0:1")
    events = [tip(category="recruitment_offer", destination_country="MY", description=f"tawaran {i}") for i in range(4)]
    villages.change(KEY, lambda state: decide(policy, state, events[0], arrival))
    villages.table.data[KEY] = villages.get(KEY).dump()  # what a write does: the table has these bytes,
    villages._since_written.pop(KEY)  # and no step is pending since
    for event in events[1:]:
        villages.change(KEY, partial(_decide, policy, event=event, arrival=arrival))
    before = villages.get(KEY).dump()

    def fail(state: VillageState) -> Any:
        state.high_water += 1_000_000
        raise RuntimeError("a bug")

    with pytest.raises(RuntimeError):
        villages.change(KEY, fail)
    assert villages.get(KEY).dump() == before
    assert all(str(e.event_id) in villages.get(KEY).ids() for e in events)


def _decide(policy: Policy, state: VillageState, event: Any, arrival: Arrival) -> Any:
    return decide(policy, state, event, arrival)
