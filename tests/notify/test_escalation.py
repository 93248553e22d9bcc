"""Escalation to the parents: CRITICAL at once; HIGH and CRITICAL again when not acknowledged in time.

The acknowledgement time is shortened by configuration (WASPADA_DEFAULT_ACK_WITHIN_S=3,
WASPADA_ESCALATION_REPEATS=2 in the rig), and by the escalation's own ``ack_within_s``.
"""

from typing import Any

import pytest
import redis

from devstack.demo_tokens import office_token
from services.common import valkey_keys
from tests.factories import escalation
from tests.notify.conftest import NotifyRig
from tests.support import http, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.broker("kafka")]
PARENTS = {"polda-banten", "kanwil-imigrasi-banten"}


def timers_of(rig: NotifyRig, eid: str) -> list[str]:
    assert rig.stack.redis_url
    client = redis.Redis.from_url(rig.stack.redis_url, decode_responses=True)
    return [str(m) for m in client.zrange(valkey_keys.TIMERS, 0, -1) if str(m).startswith(eid)]


def notices(rig: NotifyRig, eid: str) -> list[tuple[str, str, int]]:
    return sorted(
        (a["office_id"], a["payload"]["notice"]["kind"], a["payload"]["notice"]["step"])
        for a in rig.receiver.for_escalation(eid)
    )


def test_unacknowledged_high_goes_to_parents_repeats_to_the_limit_and_survives_a_restart(rig: NotifyRig) -> None:
    esc = escalation(severity="HIGH", score=70)  # no ack_within_s: the configured default (3 s) applies
    eid = esc["escalation_id"]
    rig.publish(esc)
    wait_for(lambda: len(rig.receiver.for_escalation(eid)) == 2, timeout=30, what="the first page")
    assert {o for o, _, _ in notices(rig, eid)} == {"polres-serang", "kanim-serang"}, "parents paged too early"
    rig.restart(kill=True)  # the timer lives in Valkey, not in the process
    expected = sorted(
        [("kanim-serang", "jurisdiction", 0), ("polres-serang", "jurisdiction", 0)]
        + [(parent, "unacknowledged", step) for parent in PARENTS for step in (1, 2)]
    )
    wait_for(lambda: notices(rig, eid) == expected, timeout=40, what="two unacknowledged pages to each parent")
    wait_for(lambda: not timers_of(rig, eid), timeout=10, what="the last step to clear its timer (limit 2)")
    assert notices(rig, eid) == expected


def test_acknowledgement_stops_the_escalation(rig: NotifyRig) -> None:
    esc = escalation(severity="HIGH", score=75, ack_within_s=2)
    eid = esc["escalation_id"]
    rig.publish(esc)
    wait_for(lambda: len(rig.receiver.for_escalation(eid)) == 2, timeout=30, what="the first page")
    status, body = http("POST", f"{rig.api}/v1/escalations/{eid}/ack", {"note": "Tim meluncur"},
                        office_token("polres-serang"))  # fmt: skip
    assert status == 200 and body["status"] == "acknowledged"
    control = escalation(severity="HIGH", score=75, ack_within_s=2)
    rig.publish(control)  # not acknowledged: its parents page shows the timers are running
    wait_for(
        lambda: {o for o, k, _ in notices(rig, control["escalation_id"]) if k == "unacknowledged"} == PARENTS,
        timeout=30,
        what="the unacknowledged control escalation to reach the parents",
    )
    assert timers_of(rig, eid) == []
    assert {o for o, _, _ in notices(rig, eid)} == {"polres-serang", "kanim-serang"}


def test_critical_goes_to_the_parents_at_once(rig: NotifyRig) -> None:
    esc = escalation(severity="CRITICAL", score=90, ack_within_s=3600)
    eid = esc["escalation_id"]
    rig.publish(esc)
    wait_for(lambda: len(rig.receiver.for_escalation(eid)) == 4, timeout=30, what="four pages")
    assert notices(rig, eid) == sorted(
        [("kanim-serang", "jurisdiction", 0), ("polres-serang", "jurisdiction", 0)]
        + [(parent, "critical", 0) for parent in PARENTS]
    )


def test_uncertain_kecamatan_also_notifies_the_candidate_polres(rig: NotifyRig) -> None:
    esc = escalation("36.04.22.2001", desa_name="Baros", kecamatan="Baros")
    eid = esc["escalation_id"]
    rig.publish(esc)
    wait_for(lambda: len(rig.receiver.for_escalation(eid)) == 3, timeout=30, what="three pages")
    seen: dict[str, Any] = {a["office_id"]: a["payload"]["notice"] for a in rig.receiver.for_escalation(eid)}
    assert seen == {
        "polres-serang": {"kind": "jurisdiction", "step": 0, "jurisdiction_uncertain": True},
        "kanim-serang": {"kind": "jurisdiction", "step": 0, "jurisdiction_uncertain": True},
        "polresta-serang-kota": {"kind": "uncertain_copy", "step": 0, "jurisdiction_uncertain": True},
    }


def test_the_chain_is_fixed_when_the_incident_opens(rig: NotifyRig) -> None:
    first = escalation("36.04.13.2007", severity="MEDIUM")
    rig.publish(first)
    wait_for(lambda: len(rig.receiver.for_escalation(first["escalation_id"])) == 2, timeout=30, what="revision 1")
    # revision 2 of the same incident names another village (as a corrected location would): the chain stays
    second = escalation("62.71.01.1003", severity="MEDIUM", incident_id=first["incident_id"], revision=2)
    rig.publish(second)
    wait_for(lambda: len(rig.receiver.for_escalation(second["escalation_id"])) == 2, timeout=30, what="revision 2")
    assert {a["office_id"] for a in rig.receiver.for_escalation(second["escalation_id"])} == {
        "polres-serang",
        "kanim-serang",
    }


def test_an_acknowledged_revision_read_again_stays_acknowledged_and_pages_nobody(rig: NotifyRig) -> None:
    # storing a revision rewrites its (idempotent) index and status entries in one transaction: an
    # acknowledgement must survive that, and the replay must neither page again nor restart the timer
    esc = escalation(severity="HIGH", score=75, ack_within_s=2)
    eid = esc["escalation_id"]
    rig.publish(esc)
    wait_for(lambda: len(rig.receiver.for_escalation(eid)) == 2, timeout=30, what="the first page")
    token = office_token("polres-serang")
    status, _ = http("POST", f"{rig.api}/v1/escalations/{eid}/ack", {"note": "Tim meluncur"}, token)
    assert status == 200
    rig.publish(esc)  # the same revision again, as triage re-sends it after a crash
    control = escalation(severity="HIGH", score=75, ack_within_s=2)  # same village: read after the replay
    rig.publish(control)
    wait_for(
        lambda: {o for o, k, _ in notices(rig, control["escalation_id"]) if k == "unacknowledged"} == PARENTS,
        timeout=30,
        what="the unacknowledged control escalation to reach the parents",
    )
    status, body = http("GET", f"{rig.api}/v1/escalations/{eid}", None, token)
    assert status == 200 and body["status"] == "acknowledged"
    assert timers_of(rig, eid) == []
    assert notices(rig, eid) == [("kanim-serang", "jurisdiction", 0), ("polres-serang", "jurisdiction", 0)]
