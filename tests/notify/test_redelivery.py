"""The retry schedule across a restart, and a dead-lettered delivery sent again from the officer API and the console.

A stack of its own (real broker, Valkey, HTTP receiver, notify) on a short schedule: one attempt
at once, then waits of 1 s and 10 s (three attempts, about 11 s, then the dead-letter topic). The
second wait is longer than a restart of notify takes (3-4 s here), so a delivery sent when due is
told apart from one merely sent again at start.
"""

import json
import re
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from http.cookiejar import CookieJar
from typing import Any

import pytest
import redis
from standardwebhooks import Webhook

from bench import kafka_tools
from devstack.demo_tokens import office_token
from schemas.topics import Topics
from services.notify.adapters.valkey import retry_queue
from services.notify.core.delivery import webhook_id
from tests.brokers import broker_of
from tests.factories import escalation
from tests.notify.conftest import NOTIFY_ENV, OutageRig, Rule, outage_rig
from tests.support import http, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.broker("kafka")]

SCHEDULE_S = (1.0, 10.0)
REDELIVERY_ENV = {
    **NOTIFY_ENV,
    "WASPADA_RETRY_SCHEDULE_S": ",".join(map(str, SCHEDULE_S)),
    "WASPADA_DELIVERY_QUICK_ATTEMPTS": "1",
    "WASPADA_RETRY_POLL_S": "0.2",
}


@pytest.fixture(scope="module")
def rig(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[OutageRig]:
    with outage_rig(tmp_path_factory.mktemp("notify-redelivery"), REDELIVERY_ENV, broker_of(request)) as rig:
        yield rig


def webhooks(rig: OutageRig, escalation_id: str) -> dict[str, dict[str, Any]]:
    """The escalation's webhook deliveries as the officer API shows them, by office."""
    status, body = http("GET", f"{rig.api}/v1/escalations/{escalation_id}", token=office_token("polda-banten"))
    return {d["office_id"]: d for d in body["deliveries"] if d["channel"] == "webhook"} if status == 200 else {}


def arrivals(rig: OutageRig, escalation_id: str, office_id: str, status: int | None = 200) -> list[dict[str, Any]]:
    return [a for a in rig.receiver.for_escalation(escalation_id, status) if a["office_id"] == office_id]


@pytest.fixture(scope="module")
def dead_lettered(rig: OutageRig) -> dict[str, Any]:
    """An escalation whose two webhooks were dead-lettered while the receiver was down; the receiver is back."""
    esc = escalation()
    rig.receiver_down()
    try:
        rig.publish(esc)
        wait_for(
            lambda: [d["outcome"] for d in webhooks(rig, esc["escalation_id"]).values()] == ["dead_lettered"] * 2,
            timeout=60,
            what="both webhooks dead-lettered after the schedule",
        )
    finally:
        rig.receiver_up()
    return esc


def test_api_redelivers_a_dead_lettered_webhook_under_the_same_webhook_id(
    rig: OutageRig, dead_lettered: dict[str, Any]
) -> None:
    eid = dead_lettered["escalation_id"]
    delivery_id = webhooks(rig, eid)["polres-serang"]["delivery_id"]
    assert delivery_id == webhook_id(eid, "polres-serang")
    on_topic = wait_for(
        lambda: [
            d
            for d in kafka_tools.read_json(rig.stack.kafka_bootstrap or "", Topics.DEADLETTER)
            if d.get("source", {}).get("delivery_id") == delivery_id
        ],
        timeout=20,
        what="the dead-letter record",
    )
    assert [(d["reason"], d["errors"][0]["attempts"]) for d in on_topic] == [("delivery_failed", 3)]
    url = f"{rig.api}/v1/deliveries/{delivery_id}/redeliver"
    assert http("POST", url)[0] == 401
    # another Polres, the other office of the same escalation, a Polda above others: it does not exist for them
    for outsider in ("polres-bogor", "kanim-serang", "polda-metro-jaya"):
        assert http("POST", url, token=office_token(outsider))[0] == 404, outsider
    assert http("POST", f"{rig.api}/v1/deliveries/msg_nope/redeliver", token=office_token("polres-serang"))[0] == 404

    status, body = http("POST", url, token=office_token("polda-banten"))  # the office above Polres Serang
    assert status == 202, body
    assert (body["status"], body["delivery_id"], body["office_id"]) == ("retrying", delivery_id, "polres-serang")
    arrived = wait_for(lambda: arrivals(rig, eid, "polres-serang"), timeout=15, what="the redelivered webhook")
    assert [a["webhook_id"] for a in arrived] == [delivery_id]
    Webhook(rig.secret("polres-serang")).verify(arrived[0]["body"], arrived[0]["headers"])
    wait_for(lambda: webhooks(rig, eid)["polres-serang"]["outcome"] == "delivered", timeout=10, what="the row")

    # again: nothing is sent, the answer says why
    status, body = http("POST", url, token=office_token("polres-serang"))
    assert (status, body["status"]) == (200, "delivered"), body
    time.sleep(1.0)
    assert len(arrivals(rig, eid, "polres-serang", status=None)) == 1
    _, log = http("GET", f"{rig.api}/v1/audit", token=office_token("polda-banten"))
    mine = [(e["office_id"], e["via"], e["outcome"]) for e in log if e.get("delivery_id") == delivery_id]
    assert sorted(mine) == [("polda-banten", "api", "retrying"), ("polres-serang", "api", "delivered")]


class ConsoleSession:
    """A signed-in console session over plain HTTP: a cookie jar, no redirect followed."""

    def __init__(self, base: str, office_id: str) -> None:
        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args: Any, **kwargs: Any) -> None:
                return None

        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()), NoRedirect)
        _, page = self.request("GET", "/console/login")
        status, _ = self.request("POST", "/console/login", token=office_token(office_id), csrf_token=csrf(page))
        assert status == 303, "sign-in failed"

    def request(self, method: str, path: str, **form: str) -> tuple[int, str]:
        data = urllib.parse.urlencode(form).encode() if method == "POST" else None
        try:
            with self.opener.open(urllib.request.Request(self.base + path, data=data, method=method)) as response:
                return int(response.status), response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()


def csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, "no CSRF token in the page"
    return found.group(1)


def test_console_button_beside_a_dead_lettered_delivery_sends_it_again(
    rig: OutageRig, dead_lettered: dict[str, Any]
) -> None:
    eid = dead_lettered["escalation_id"]
    delivery_id = webhooks(rig, eid)["kanim-serang"]["delivery_id"]
    console = ConsoleSession(rig.api, "kanim-serang")
    status, page = console.request("GET", f"/console/escalations/{eid}")
    action = f"/console/deliveries/{delivery_id}/redeliver"
    assert status == 200 and f'action="{action}"' in page and "Kirim ulang" in page
    assert console.request("POST", action, csrf_token="forged")[0] == 403
    assert not arrivals(rig, eid, "kanim-serang", status=None)

    status, _ = console.request("POST", action, csrf_token=csrf(page))
    assert status == 303
    arrived = wait_for(lambda: arrivals(rig, eid, "kanim-serang"), timeout=15, what="the webhook sent from the console")
    assert [a["webhook_id"] for a in arrived] == [delivery_id]
    wait_for(lambda: webhooks(rig, eid)["kanim-serang"]["outcome"] == "delivered", timeout=10, what="the row")
    _, page = console.request("GET", f"/console/escalations/{eid}")
    assert f'action="{action}"' not in page, "a delivered row still offers to send it again"
    _, log = http("GET", f"{rig.api}/v1/audit", token=office_token("kanim-serang"))
    assert [(e["via"], e["outcome"]) for e in log if e.get("delivery_id") == delivery_id] == [("console", "retrying")]


def parked_attempts(rig: OutageRig, delivery_id: str) -> int:
    """Attempts so far of a delivery parked in the retry queue (0 when it is not parked)."""
    client = redis.Redis.from_url(rig.stack.redis_url or "", decode_responses=True)
    body = client.hget(retry_queue.BODIES, delivery_id)
    return int(json.loads(str(body))["attempts"]) if body else 0


def test_a_parked_delivery_survives_a_restart_and_is_sent_when_due(rig: OutageRig) -> None:
    esc = escalation()
    eid = esc["escalation_id"]
    rig.receiver.rules[(eid, "polres-serang")] = Rule(fail=2, status=503)
    rig.publish(esc)
    wait_for(lambda: parked_attempts(rig, webhook_id(eid, "polres-serang")) == 2, timeout=20, what="two failures")
    killed = time.monotonic()
    rig.restart(kill=True)  # SIGKILL: the delivery waits in Valkey, due 8-10 s after its second failure
    print(f"notify restarted in {time.monotonic() - killed:.1f} s")
    third = wait_for(lambda: arrivals(rig, eid, "polres-serang"), timeout=30, what="the third attempt")[0]
    first, second = arrivals(rig, eid, "polres-serang", status=503)
    assert 0.8 * SCHEDULE_S[0] <= second["t"] - first["t"] <= SCHEDULE_S[0] + 1.5
    assert 0.8 * SCHEDULE_S[1] <= third["t"] - second["t"] <= SCHEDULE_S[1] + 3.0, "not sent when it was due"
    time.sleep(1.0)
    assert len(arrivals(rig, eid, "polres-serang", status=None)) == 3
    assert webhooks(rig, eid)["polres-serang"]["outcome"] == "delivered"
