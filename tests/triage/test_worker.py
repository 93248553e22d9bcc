"""The triage worker through a real broker: dead letters, clear identifiers, re-keying, metrics, health."""

import json
import os

import pytest

from devstack.stack import DEV_PSEUDONYM_KEY, Stack
from schemas.escalation import Escalation
from schemas.topics import Topics
from services.common.pseudonym import pseudonym
from tests.support import http, wait_for
from tests.triage.broker import event_record, produce, read_all
from tests.triage.conftest import event_body

pytestmark = [pytest.mark.integration, pytest.mark.broker("kafka")]
CLEAR_PASSPORT = "C9876543"


def _escalations(stack: Stack, desa_code: str) -> list[Escalation]:
    assert stack.kafka_bootstrap
    records = read_all(stack.kafka_bootstrap, Topics.ESCALATIONS)
    found = [Escalation.model_validate_json(r.value) for r in records]
    return [e for e in found if e.desa_code == desa_code]


def _metric(stack: Stack, name: str, **labels: str) -> float:
    _, text = http("GET", stack.url("triage") + "/metrics")
    total = 0.0
    for line in str(text).splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_poison_messages_go_to_the_dead_letter_topic_and_the_stream_flows(triage_stack: Stack) -> None:
    bootstrap = triage_stack.kafka_bootstrap
    assert bootstrap
    invalid = event_body("tip", "36.04.13.2001")
    invalid.update(persons_involved=0, reporter={"name": "Ibu Siti Aminah", "phone": "0812-1111-2222"})
    good = event_body("departure_anomaly", "36.04.13.2001", age=15)
    produce(
        bootstrap,
        [
            (Topics.TIPS, b"36.04.13.2001", b"\x00\xffnot json", []),
            event_record(invalid),
            (Topics.TIPS, b"36.04.13.2001", json.dumps(event_body("recruiter_sighting", "36.04.13.2001")).encode(), []),
            event_record(good),
        ],
    )
    wait_for(lambda: _escalations(triage_stack, "36.04.13.2001"), timeout=60, what="the escalation after the poison")
    dead = [json.loads(r.value) for r in read_all(bootstrap, Topics.DEADLETTER)]
    assert [d["reason"] for d in dead] == ["unparseable", "invalid", "wrong_topic"]
    assert dead[1]["errors"][0]["loc"] == ["tip", "persons_involved"]
    text = json.dumps(dead)
    assert "Siti" not in text and "1111" not in text, "clear PII copied into a dead letter"
    assert _metric(triage_stack, "waspada_deadletter_total", stage="triage", reason="invalid") >= 1


def test_clear_identifier_is_pseudonymised_before_it_is_stored_or_emitted(triage_stack: Stack) -> None:
    bootstrap = triage_stack.kafka_bootstrap
    assert bootstrap
    body = event_body("departure_anomaly", "36.04.13.2002", age=16)
    body.update(traveller=CLEAR_PASSPORT, reporter={"name": "Pak Budi Santoso"})
    produce(bootstrap, [event_record(body)])
    wait_for(lambda: _escalations(triage_stack, "36.04.13.2002"), timeout=60, what="the escalation")
    assert _metric(triage_stack, "waspada_triage_pseudonymised_total", type="departure_anomaly") >= 1
    changelog = read_all(bootstrap, "waspada-triage-villages-changelog")
    stored = b"".join(r.value or b"" for r in changelog) + b"".join(
        r.value for r in read_all(bootstrap, Topics.ESCALATIONS)
    )
    assert stored and CLEAR_PASSPORT.encode() not in stored and b"Budi" not in stored


def test_a_number_in_a_directly_published_description_is_scrubbed_before_it_is_stored(triage_stack: Stack) -> None:
    bootstrap = triage_stack.kafka_bootstrap
    assert bootstrap
    phone, nik = "0857-2468-1357", "3201987654321098"
    text = f"Lowongan admin di Kamboja, hubungi WA {phone} atau +60 12-864 2097, NIK korban {nik}"
    body = event_body("tip", "36.04.13.2004", category="online_scam_job", destination_country="KH", description=text)
    assert body["reporter"] is None  # nothing in clear but the free text
    produce(bootstrap, [event_record(body)])
    wait_for(lambda: _escalations(triage_stack, "36.04.13.2004"), timeout=60, what="the escalation")
    stored = b"".join(r.value or b"" for r in read_all(bootstrap, "waspada-triage-villages-changelog"))
    stored += b"".join(r.value for r in read_all(bootstrap, Topics.ESCALATIONS))
    clear = ("0857-2468-1357", "0857 2468 1357", "85724681357", "12-864 2097", "12 864 2097", "128642097", nik)
    for secret in clear:  # as published, as triage's text normalisation would keep them, as digits
        assert secret.encode() not in stored, f"{secret!r} stored or escalated"
    key = os.environ.get("WASPADA_PSEUDONYM_KEY", DEV_PSEUDONYM_KEY).encode()
    assert pseudonym(key, "phone", "+6285724681357").encode() in stored, "the text is kept, scrubbed, for dedup"
    assert _metric(triage_stack, "waspada_scrubbed_total", rule="phone", service="triage") >= 2
    assert _metric(triage_stack, "waspada_scrubbed_total", rule="nik", service="triage") >= 1
    assert _metric(triage_stack, "waspada_triage_pseudonymised_total", type="tip") >= 1


def test_same_event_id_via_two_paths_is_counted_once_and_a_wrong_key_is_fixed(triage_stack: Stack) -> None:
    bootstrap = triage_stack.kafka_bootstrap
    assert bootstrap
    scam = event_body("tip", "36.04.13.2003", category="online_scam_job", destination_country="KH")
    before = _metric(triage_stack, "waspada_triage_events_total", type="tip", outcome="duplicate")
    produce(bootstrap, [event_record(scam, channel="demo-village"), event_record(scam, channel=None, key="wrong")])
    wait_for(
        lambda: _metric(triage_stack, "waspada_triage_events_total", type="tip", outcome="duplicate") > before,
        timeout=60,
        what="the second copy counted as a duplicate",
    )
    assert _metric(triage_stack, "waspada_triage_events_total", type="tip", outcome="rekeyed") >= 1
    escalations = _escalations(triage_stack, "36.04.13.2003")
    assert [(e.revision, e.event_count) for e in escalations] == [(1, 1)]


def test_metrics_health_and_no_table_views(triage_stack: Stack) -> None:
    status, health = http("GET", triage_stack.url("triage") + "/healthz")
    assert status == 200 and health["status"] == "ok"
    _, text = http("GET", triage_stack.url("triage") + "/metrics")
    for name in (
        "waspada_triage_events_total",
        "waspada_escalations_total",
        "waspada_triage_score_bucket",
        "waspada_triage_consumer_lag",
        "waspada_deadletter_total",
    ):
        assert name in str(text), name
    status, _ = http("GET", triage_stack.url("triage") + "/table/villages/")
    assert status == 404, "table views would expose village state"


def test_its_own_log_lines_stay_json_under_the_faust_worker(triage_stack: Stack) -> None:
    """mode's Worker replaces the root log handler unless told not to; then structlog lines come out as dict reprs."""

    def started() -> list[dict[str, object]]:
        lines = (triage_stack.workdir / "triage.log").read_text().splitlines()
        records = [json.loads(line) for line in lines if line.startswith("{")]
        return [r for r in records if r.get("event") == "triage_started"]

    [record] = wait_for(started, what="a triage_started JSON line")
    assert record["level"] == "info" and record["partitions"] == 4
    text = (triage_stack.workdir / "triage.log").read_text()
    assert "{'event'" not in text and "\x1b" not in text  # no dict reprs, no terminal escape codes
