"""Notify while what it depends on goes away: Valkey stopped and restarted, an office's receiver down.

A stack of its own (real broker, Valkey, HTTP receiver, notify): these tests stop Valkey and the
receiver, which the other modules' shared stack must not see. The retry schedule is shortened
(2 quick attempts, then the retry queue: 0.5, 1, 2, 2, … s; 8 attempts, about 12 s in all).
"""

import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from bench import kafka_tools
from devstack.demo_tokens import office_token
from schemas.topics import Topics
from tests.brokers import broker_of
from tests.factories import escalation
from tests.notify.conftest import NOTIFY_ENV, OutageRig, Rule, outage_rig
from tests.support import http, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.broker("kafka")]

OUTAGE_ENV = {
    **NOTIFY_ENV,
    "WASPADA_RETRY_SCHEDULE_S": "0.5,1,2,2,2,2,2",
    "WASPADA_DELIVERY_QUICK_ATTEMPTS": "2",
    "WASPADA_RETRY_POLL_S": "0.2",
}
SERANG = ("polres-serang", "kanim-serang")
"""The offices an escalation in the default village (Lontar, Kab. Serang) goes to."""


@pytest.fixture(scope="module")
def outage(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[OutageRig]:
    with outage_rig(tmp_path_factory.mktemp("notify-outages"), OUTAGE_ENV, broker_of(request)) as rig:
        yield rig


def get(url: str, **headers: str) -> tuple[int, dict[str, str], str]:
    """Status, headers (lower-case names) and body of a GET (no redirect followed)."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.build_opener(NoRedirect).open(request, timeout=15) as response:
            return int(response.status), {k.lower(): v for k, v in response.headers.items()}, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read().decode()


def successes(rig: OutageRig, escalation_ids: set[str]) -> Counter[str]:
    """Successful arrivals per webhook-id, for these escalations."""
    with rig.receiver.lock:
        return Counter(
            a["webhook_id"]
            for a in rig.receiver.attempts
            if a["escalation_id"] in escalation_ids and a["status"] == 200
        )


def missing(rig: OutageRig, escalation_ids: set[str]) -> set[tuple[str, str]]:
    """(escalation, office) pairs of these escalations with no successful arrival yet."""
    with rig.receiver.lock:
        got = {(a["escalation_id"], a["office_id"]) for a in rig.receiver.attempts if a["status"] == 200}
    return {(e, o) for e in escalation_ids for o in SERANG} - got


def all_delivered(rig: OutageRig, escalation_ids: set[str]) -> bool:
    return not missing(rig, escalation_ids)


def test_valkey_stopped_and_restarted_while_escalations_flow_each_is_delivered_once(outage: OutageRig) -> None:
    sent: list[str] = []

    def flow() -> None:
        for _ in range(30):
            esc = escalation()
            sent.append(esc["escalation_id"])
            outage.publish(esc)
            time.sleep(0.2)

    publisher = threading.Thread(target=flow)
    publisher.start()
    time.sleep(1.5)
    outage.valkey_down()
    try:
        time.sleep(3.0)
        assert http("GET", outage.api + "/healthz")[0] == 200, "liveness must not depend on Valkey"
    finally:
        outage.valkey_up()
    publisher.join()
    try:
        wait_for(lambda: all_delivered(outage, set(sent)), timeout=60, what="every escalation delivered")
    except AssertionError:
        lost = missing(outage, set(sent))
        on_topic = {
            e["escalation_id"] for e in kafka_tools.read_json(outage.stack.kafka_bootstrap or "", Topics.ESCALATIONS)
        }
        raise AssertionError(
            f"{len(lost)} of {2 * len(sent)} deliveries missing, e.g. {sorted(lost)[:4]}; "
            f"{len({e for e, _ in lost} & on_topic)} of their escalations are on the topic"
        ) from None
    time.sleep(1.0)  # a second copy, if any, would arrive now
    counts = successes(outage, set(sent))
    assert len(counts) == 2 * len(sent)
    assert set(counts.values()) == {1}, f"delivered twice: {[w for w, n in counts.items() if n > 1]}"
    wait_for(lambda: get(outage.api + "/readyz")[0] == 200, timeout=10, what="/readyz to pass again")


def test_while_valkey_is_down_the_officer_api_and_console_answer_503_with_retry_after(outage: OutageRig) -> None:
    token = office_token("polres-serang")
    assert get(outage.api + "/v1/escalations", Authorization=f"Bearer {token}")[0] == 200
    outage.valkey_down()
    try:
        status, headers, body = get(outage.api + "/v1/escalations", Authorization=f"Bearer {token}")
        assert status == 503 and int(headers["retry-after"]) > 0, (status, body)
        status, headers, _ = get(outage.api + "/v1/escalations/esc_any", Authorization=f"Bearer {token}")
        assert status == 503 and "retry-after" in headers
        # a console page that needs the session store: an HTML page saying so, not a 500
        status, headers, body = get(outage.api + "/console/escalations", Cookie="waspada_session=some-session")
        assert status == 503 and "retry-after" in headers and "text/html" in headers["content-type"]
        assert get(outage.api + "/healthz")[0] == 200
        wait_for(lambda: get(outage.api + "/readyz")[0] == 503, timeout=10, what="/readyz to fail")
        assert "valkey" in get(outage.api + "/readyz")[2]
        assert get(outage.api + "/v1/escalations")[0] == 401, "no token is still 401, Valkey or not"
    finally:
        outage.valkey_up()
    wait_for(lambda: get(outage.api + "/readyz")[0] == 200, timeout=10, what="/readyz to pass again")
    ok = get(outage.api + "/v1/escalations", Authorization=f"Bearer {token}")
    assert ok[0] == 200, ok
    assert get(outage.api + "/console/escalations", Cookie="waspada_session=some-session")[0] == 303


def test_a_receiver_down_for_a_while_gets_each_notification_once_when_back(outage: OutageRig) -> None:
    outage.receiver_down()
    try:
        first = escalation()
        outage.publish(first)
        # parked in the retry queue: the officer API shows the delivery as retrying
        wait_for(
            lambda: {d["outcome"] for d in _deliveries(outage, first["escalation_id"])} == {"retrying"},
            timeout=20,
            what="both deliveries parked for a retry",
        )
        # the parked deliveries survive a restart of notify (SIGTERM) while the receiver is still down
        outage.restart(kill=False)
        second = escalation()
        outage.publish(second)
        time.sleep(2.0)
    finally:
        outage.receiver_up()
    ids = {first["escalation_id"], second["escalation_id"]}
    wait_for(
        lambda: all_delivered(outage, ids), timeout=30, what="both escalations delivered once the receiver is back"
    )
    time.sleep(1.5)
    counts = successes(outage, ids)
    assert len(counts) == 4 and set(counts.values()) == {1}, counts
    assert {d["outcome"] for d in _deliveries(outage, first["escalation_id"])} == {"delivered"}


def test_retries_exhausted_go_to_the_dead_letter_topic(outage: OutageRig) -> None:
    failing = escalation()
    eid = failing["escalation_id"]
    outage.receiver.rules[(eid, "polres-serang")] = Rule(fail=99, status=503)
    before = outage.metric("waspada_deadletter_total", stage="notify", reason="delivery_failed")
    started = time.monotonic()
    outage.publish(failing)
    # the failing delivery does not hold the consumer back: a later escalation is delivered meanwhile
    later = escalation()
    outage.publish(later)
    wait_for(lambda: all_delivered(outage, {later["escalation_id"]}), timeout=10, what="the later escalation")
    assert not [a for a in outage.receiver.for_escalation(eid) if a["office_id"] == "polres-serang"]
    wait_for(
        lambda: outage.metric("waspada_deadletter_total", stage="notify", reason="delivery_failed") > before,
        timeout=40,
        what="the failing delivery dead-lettered after its last attempt",
    )
    assert time.monotonic() - started > 5, "the retry schedule (about 12 s) was not followed"
    attempts = Counter(a["office_id"] for a in outage.receiver.for_escalation(eid, status=None))
    assert attempts == {"polres-serang": 8, "kanim-serang": 1}
    records = wait_for(
        lambda: [
            r
            for r in kafka_tools.read_json(outage.stack.kafka_bootstrap or "", Topics.DEADLETTER)
            if r.get("source", {}).get("escalation_id") == eid
        ],
        timeout=20,
        what="the dead-letter record",
    )
    assert [(r["reason"], r["source"]["office_id"], r["errors"][0]["attempts"]) for r in records] == [
        ("delivery_failed", "polres-serang", 8)
    ]
    outcomes = {d["office_id"]: d["outcome"] for d in _deliveries(outage, eid)}
    assert outcomes == {"polres-serang": "dead_lettered", "kanim-serang": "delivered"}


def _deliveries(rig: OutageRig, escalation_id: str) -> list[dict[str, Any]]:
    """The webhook deliveries the officer API shows (Kanim Serang's e-mail is skipped here: no SMTP)."""
    status, body = http("GET", f"{rig.api}/v1/escalations/{escalation_id}", token=office_token("polres-serang"))
    return [d for d in body["deliveries"] if d["channel"] == "webhook"] if status == 200 else []
