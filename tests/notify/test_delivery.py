"""Delivery through a real broker, Valkey, HTTP receiver and SMTP server: retries, no double page, dead letters."""

import json
from collections import Counter
from typing import Any

import pytest
from standardwebhooks import Webhook

from tests.factories import escalation
from tests.notify.conftest import NotifyRig, Rule
from tests.support import http, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.broker("kafka")]

ALLOWED_KEYS = {
    "escalation_id", "incident_id", "revision", "severity", "score", "reasons", "categories", "desa_code",
    "desa_name", "kecamatan", "kabupaten", "provinsi", "event_count", "event_types", "first_seen", "last_seen",
    "created_at", "ack_within_s", "policy_version", "console_url", "notice",
}  # fmt: skip


def successes_per_webhook_id(attempts: list[dict[str, Any]]) -> Counter[str]:
    return Counter(a["webhook_id"] for a in attempts if a["status"] == 200)


def test_flaky_receiver_ends_with_one_signed_success_per_webhook_id(rig: NotifyRig) -> None:
    esc = escalation()
    eid = esc["escalation_id"]
    rig.receiver.rules[(eid, "polres-serang")] = Rule(fail=3, status=503)
    rig.receiver.rules[(eid, "kanim-serang")] = Rule(fail=2, status=429, retry_after="1")
    rig.publish(esc)

    def both_delivered() -> list[dict[str, Any]]:
        ok = rig.receiver.for_escalation(eid)
        return ok if {a["office_id"] for a in ok} == {"polres-serang", "kanim-serang"} else []

    wait_for(both_delivered, timeout=30, what="both offices to get the webhook after failures")
    all_attempts = rig.receiver.for_escalation(eid, status=None)
    by_office = Counter(a["office_id"] for a in all_attempts)
    assert by_office == {"polres-serang": 4, "kanim-serang": 3}
    assert len({a["webhook_id"] for a in all_attempts if a["office_id"] == "polres-serang"}) == 1, (
        "webhook-id must be stable across retries"
    )
    assert all(n == 1 for n in successes_per_webhook_id(all_attempts).values())
    for attempt in all_attempts:
        # the scheme's reference implementation, not the project's signing code
        Webhook(rig.secret(attempt["office_id"])).verify(attempt["body"], attempt["headers"])
        payload = attempt["payload"]
        assert set(payload) <= ALLOWED_KEYS, f"unexpected fields {set(payload) - ALLOWED_KEYS}"
        assert payload["console_url"] == f"{rig.api}/console/escalations/{eid}"
        assert payload["notice"] == {"kind": "jurisdiction", "step": 0, "jurisdiction_uncertain": False}
    assert rig.metric("waspada_notifications_total", channel="webhook", outcome="failed") >= 5


def test_email_in_bahasa_indonesia_with_the_same_content(rig: NotifyRig) -> None:
    esc = escalation(severity="HIGH", score=70, ack_within_s=3600)
    rig.publish(esc)
    message = wait_for(
        lambda: next((m for m in rig.mailbox.messages if esc["incident_id"] in str(m["Subject"])), None),
        timeout=30,
        what="the e-mail to Kanim Serang",
    )
    assert message["To"] == "piket.kanim-serang@waspada.invalid"
    text = message.get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert "[WASPADA HIGH]" in message["Subject"]
    for expected in ("Yth. Petugas Piket", "Desa/Kel. Lontar, Kec. Tirtayasa", "skor 70", "laporan warga 1",
                     "Tawaran kerja ke Kamboja", "Mohon dikonfirmasi dalam 60 menit",
                     f"{rig.api}/console/escalations/{esc['escalation_id']}"):  # fmt: skip
        assert expected in text, expected
    assert rig.metric("waspada_notifications_total", channel="email", outcome="delivered") >= 1


def test_a_4xx_is_not_retried_and_goes_to_the_dead_letter_topic(rig: NotifyRig) -> None:
    esc = escalation()
    eid = esc["escalation_id"]
    rig.receiver.rules[(eid, "polres-serang")] = Rule(fail=99, status=400)
    rig.receiver.rules[(eid, "kanim-serang")] = Rule(fail=99, status=503)
    before = rig.metric("waspada_deadletter_total", stage="notify", reason="delivery_rejected")
    rig.publish(esc)
    wait_for(
        lambda: rig.metric("waspada_deadletter_total", stage="notify", reason="delivery_failed") >= 1,
        timeout=30,
        what="the 503 delivery to be dead-lettered after its last attempt",
    )
    attempts = Counter(a["office_id"] for a in rig.receiver.for_escalation(eid, status=None))
    assert attempts == {"polres-serang": 1, "kanim-serang": 5}
    assert rig.metric("waspada_deadletter_total", stage="notify", reason="delivery_rejected") == before + 1
    records = _deadletters(rig)
    mine = [r for r in records if r.get("source", {}).get("escalation_id") == eid]
    assert {(r["reason"], r["source"]["office_id"]) for r in mine} == {
        ("delivery_rejected", "polres-serang"),
        ("delivery_failed", "kanim-serang"),
    }
    assert all(r["stage"] == "notify" for r in mine)


def _deadletters(rig: NotifyRig) -> list[dict[str, Any]]:
    import asyncio

    from aiokafka import AIOKafkaConsumer

    async def read() -> list[dict[str, Any]]:
        consumer = AIOKafkaConsumer(
            "waspada.deadletter.v1", bootstrap_servers=rig.stack.kafka_bootstrap, auto_offset_reset="earliest"
        )
        await consumer.start()
        try:
            batches = await consumer.getmany(timeout_ms=3000)
            return [json.loads(m.value) for part in batches.values() for m in part]
        finally:
            await consumer.stop()

    return wait_for(lambda: asyncio.run(read()), timeout=20, what="dead-letter records")


def test_sigkill_mid_delivery_then_restart_sends_no_duplicate(rig: NotifyRig) -> None:
    esc = escalation()
    eid = esc["escalation_id"]
    # Polres Serang keeps failing for a while; Kanim Serang succeeds at once
    rig.receiver.rules[(eid, "polres-serang")] = Rule(fail=4, status=503, retry_after="1")
    delivered_before = rig.metric("waspada_notifications_total", channel="webhook", outcome="delivered")
    rig.publish(esc)
    wait_for(lambda: rig.receiver.for_escalation(eid), timeout=30, what="Kanim Serang's delivery")
    wait_for(lambda: rig.receiver.for_escalation(eid, status=503), timeout=30, what="a failed attempt at Polres Serang")
    # "after it succeeded" means after notify logged the success: a kill between the receiver's 2xx
    # and that log write is the at-least-once window the stable webhook-id exists for
    wait_for(
        lambda: rig.metric("waspada_notifications_total", channel="webhook", outcome="delivered") > delivered_before,
        timeout=30,
        what="notify to log Kanim Serang's success",
    )
    rig.restart(kill=True)  # SIGKILL while Polres Serang's delivery is between attempts
    wait_for(
        lambda: [a for a in rig.receiver.for_escalation(eid) if a["office_id"] == "polres-serang"],
        timeout=40,
        what="Polres Serang's delivery after the restart",
    )
    attempts = rig.receiver.for_escalation(eid, status=None)
    assert successes_per_webhook_id(attempts) == Counter(
        {a["webhook_id"]: 1 for a in attempts if a["office_id"] in {"polres-serang", "kanim-serang"}}
    )
    kanim = [a for a in attempts if a["office_id"] == "kanim-serang"]
    assert len(kanim) == 1, "the delivery that succeeded before the kill was sent again"


def test_replayed_escalation_is_not_delivered_again(rig: NotifyRig) -> None:
    observed = rig.metric("waspada_end_to_end_seconds_count")
    esc = escalation()
    rig.publish(esc)
    wait_for(lambda: len(rig.receiver.for_escalation(esc["escalation_id"])) == 2, timeout=30, what="two deliveries")
    rig.publish(esc)  # the same revision again, as a replay would bring it
    marker = escalation()
    rig.publish(marker)  # delivered after the replay: once it arrives, the replay was handled
    wait_for(lambda: len(rig.receiver.for_escalation(marker["escalation_id"])) == 2, timeout=30, what="the marker")
    assert len(rig.receiver.for_escalation(esc["escalation_id"], status=None)) == 2
    # end-to-end latency observed once per revision: not per delivery (two each), not again on the replay
    assert rig.metric("waspada_end_to_end_seconds_count") == observed + 2
    status, _ = http("GET", rig.api + "/healthz")
    assert status == 200
