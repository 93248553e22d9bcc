"""A resolved village pages again: resolve through the officer API, report again, a new incident pages."""

from typing import Any

import pytest

from devstack.demo_tokens import office_token
from devstack.stack import Stack
from schemas.regions import region_table
from tests.support import VILLAGE_TOKEN, http, tip, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.broker("kafka")]


def _village() -> str:
    """A Tirtayasa village no other test reports from (Desa Lontar is the walking skeleton's)."""
    return sorted(code for code in region_table().villages if code.startswith("36.04.13.") and code != "36.04.13.2007")[
        0
    ]


def _webhooks(stack: Stack, desa_code: str, office_id: str) -> list[dict[str, Any]]:
    _, received = http("GET", stack.url("sink") + "/received")
    return [n["payload"] for n in received if n["payload"]["desa_code"] == desa_code and n["office_id"] == office_id]


def _minors_tip(desa_code: str, text: str) -> dict[str, Any]:
    return tip(desa_code, category="suspected_victim", minors_involved=True, destination_country="MY", description=text)


def test_a_report_after_the_resolution_opens_a_new_incident_that_pages(pipeline: Stack) -> None:
    desa, polres = _village(), "polres-serang"
    token = office_token(polres)
    assert http("POST", pipeline.url("ingest") + "/v1/tips", _minors_tip(desa, "anak disekap"), VILLAGE_TOKEN)[0] == 202
    first = wait_for(lambda: _webhooks(pipeline, desa, polres), timeout=60, what="the first page")[0]

    status, resolved = http(
        "POST", pipeline.url("notify") + f"/v1/escalations/{first['escalation_id']}/resolve", {}, token
    )
    assert status == 200 and resolved["status"] == "resolved"

    # at once, no pause: the resolution may still be in flight to triage (the race has a defined answer)
    later = [
        _minors_tip(desa, "dua anak dibawa sponsor ke Malaysia"),
        _minors_tip(desa, "dua anak dibawa sponsor ke Malaysia!"),
    ]
    for body in later:
        assert http("POST", pipeline.url("ingest") + "/v1/tips", body, VILLAGE_TOKEN)[0] == 202

    def paged_again() -> list[dict[str, Any]]:
        return [p for p in _webhooks(pipeline, desa, polres) if p["incident_id"] != first["incident_id"]]

    new = wait_for(paged_again, timeout=60, what="a page of the new incident")[0]
    assert new["revision"] == 1 and new["severity"] in {"HIGH", "CRITICAL"}
    assert new["policy_version"] == first["policy_version"] and len(new["policy_version"]) == 64

    def listed() -> dict[str, Any] | None:
        _, rows = http("GET", pipeline.url("notify") + "/v1/escalations", token=token)
        return next((r for r in rows if r["incident_id"] == new["incident_id"]), None)

    row = wait_for(listed, timeout=20, what="the new incident in the officer list")
    assert row["status"] == "open"
    _, old = http("GET", pipeline.url("notify") + f"/v1/escalations/{first['escalation_id']}", token=token)
    assert old["status"] == "resolved" and old["event_count"] == 1, "nothing is folded into the resolved incident"
