"""The officer API of CONTRACT §6 against a real notify: tokens, jurisdictions, status, audit, gauge."""

from typing import Any

import pytest

from devstack.demo_tokens import office_token
from tests.factories import escalation
from tests.notify.conftest import NotifyRig
from tests.support import http, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.broker("kafka")]


def _stored(rig: NotifyRig, eid: str, office: str = "polres-serang") -> dict[str, Any]:
    def found() -> dict[str, Any] | None:
        status, body = http("GET", f"{rig.api}/v1/escalations/{eid}", token=office_token(office))
        return body if status == 200 else None

    return wait_for(found, timeout=30, what=f"escalation {eid} in the officer API")


def test_tokens_and_jurisdictions(rig: NotifyRig) -> None:
    esc = escalation()
    eid = esc["escalation_id"]
    rig.publish(esc)
    record = _stored(rig, eid)
    assert record["status"] == "open" and record["acknowledged_at"] is None and record["resolved_at"] is None
    for field in ("desa_code", "kecamatan", "kabupaten", "provinsi", "event_types", "reasons", "severity"):
        assert record[field] == esc[field]
    assert http("GET", f"{rig.api}/v1/escalations")[0] == 401
    assert http("GET", f"{rig.api}/v1/escalations/{eid}")[0] == 401
    assert http("GET", f"{rig.api}/v1/escalations", token="demo-nobody-token")[0] == 401
    # another office's escalation does not exist for it
    assert http("GET", f"{rig.api}/v1/escalations/{eid}", token=office_token("polres-bogor"))[0] == 404
    assert http("POST", f"{rig.api}/v1/escalations/{eid}/ack", token=office_token("polres-bogor"))[0] == 404
    assert http("GET", f"{rig.api}/v1/escalations/esc_nope", token=office_token("polres-serang"))[0] == 404
    _, bogor_list = http("GET", f"{rig.api}/v1/escalations", token=office_token("polres-bogor"))
    assert eid not in {e["escalation_id"] for e in bogor_list}
    # the parents see their children's escalations; another Polda does not
    for parent in ("polda-banten", "kanwil-imigrasi-banten", "kanim-serang"):
        _, listed = http("GET", f"{rig.api}/v1/escalations", token=office_token(parent))
        assert eid in {e["escalation_id"] for e in listed}, parent
    assert http("GET", f"{rig.api}/v1/escalations/{eid}", token=office_token("polda-metro-jaya"))[0] == 404


def test_acknowledge_resolve_audit_and_gauge(rig: NotifyRig) -> None:
    esc = escalation(severity="HIGH", score=66, ack_within_s=3600)
    eid = esc["escalation_id"]
    before = rig.metric("waspada_escalations_unacknowledged", severity="HIGH")
    rig.publish(esc)
    _stored(rig, eid)
    wait_for(
        lambda: rig.metric("waspada_escalations_unacknowledged", severity="HIGH") == before + 1,
        timeout=10,
        what="the unacknowledged gauge to count it",
    )
    rig.restart(kill=False)  # the gauge is rebuilt from Valkey, not from process memory
    assert rig.metric("waspada_escalations_unacknowledged", severity="HIGH") == before + 1

    status, acked = http("POST", f"{rig.api}/v1/escalations/{eid}/ack", {"note": "Diterima piket"},
                         office_token("kanim-serang"))  # fmt: skip
    assert status == 200
    assert acked["status"] == "acknowledged" and acked["acknowledged_by"] == "kanim-serang"
    assert acked["acknowledged_at"] and acked["resolved_at"] is None
    assert rig.metric("waspada_escalations_unacknowledged", severity="HIGH") == before
    again = http("POST", f"{rig.api}/v1/escalations/{eid}/ack", token=office_token("polres-serang"))[1]
    assert again["acknowledged_by"] == "kanim-serang", "a second acknowledgement must not overwrite the first"
    assert http("POST", f"{rig.api}/v1/escalations/{eid}/ack", {"note": "x" * 501},
                office_token("polres-serang"))[0] == 422  # fmt: skip

    status, resolved = http("POST", f"{rig.api}/v1/escalations/{eid}/resolve", {}, office_token("polda-banten"))
    assert status == 200 and resolved["status"] == "resolved" and resolved["resolved_at"]
    assert http("POST", f"{rig.api}/v1/escalations/{eid}/ack", token=office_token("polres-serang"))[0] == 409

    detail = _stored(rig, eid, "polres-serang")
    assert [(h["office_id"], h["action"], h.get("note")) for h in detail["history"]] == [
        ("kanim-serang", "acknowledge", "Diterima piket"),
        ("polres-serang", "acknowledge", None),
        ("polda-banten", "resolve", None),
    ]
    assert {(d["office_id"], d["channel"], d["outcome"]) for d in detail["deliveries"]} >= {
        ("polres-serang", "webhook", "delivered"),
        ("kanim-serang", "webhook", "delivered"),
        ("kanim-serang", "email", "delivered"),
    }
    _, log = http("GET", f"{rig.api}/v1/audit", token=office_token("polres-serang"))
    actions = {(e["action"], e.get("escalation_id")) for e in log}
    assert {("read", eid), ("acknowledge", eid)} <= actions
    assert all(e["office_id"] == "polres-serang" for e in log)
    _, polda_log = http("GET", f"{rig.api}/v1/audit", token=office_token("polda-banten"))
    assert {("resolve", "polda-banten"), ("acknowledge", "polres-serang")} <= {
        (e["action"], e["office_id"]) for e in polda_log
    }
    assert http("GET", f"{rig.api}/v1/audit")[0] == 401
