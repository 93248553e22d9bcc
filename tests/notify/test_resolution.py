"""Resolving publishes the resolution for triage first; Kafka away is a 503 and nothing changes."""

import time
from collections.abc import Iterator

import pytest

from bench import kafka_tools
from devstack.demo_tokens import office_token
from schemas.outcomes import Resolution
from schemas.topics import Topics
from tests.brokers import broker_of
from tests.factories import escalation
from tests.notify.conftest import NOTIFY_ENV, NotifyRig, OutageRig, outage_rig
from tests.support import http, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.broker("kafka")]
TOKEN = office_token("polres-serang")


@pytest.fixture(scope="module")
def resolution_rig(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[OutageRig]:
    """A stack of its own: the last test stops its broker."""
    with outage_rig(tmp_path_factory.mktemp("notify-resolution"), NOTIFY_ENV, broker_of(request)) as rig:
        yield rig


def _stored(rig: NotifyRig, escalation_id: str) -> bool:
    return http("GET", f"{rig.api}/v1/escalations/{escalation_id}", token=TOKEN)[0] == 200


def test_a_resolution_is_on_the_outcomes_topic_keyed_by_village(resolution_rig: NotifyRig) -> None:
    esc = escalation(severity="HIGH", score=70)
    resolution_rig.publish(esc)
    wait_for(lambda: _stored(resolution_rig, esc["escalation_id"]), timeout=30, what="the escalation stored")
    status, body = http("POST", f"{resolution_rig.api}/v1/escalations/{esc['escalation_id']}/resolve", {}, TOKEN)
    assert (status, body["status"], body["resolved_by"]) == (200, "resolved", "polres-serang")
    http("POST", f"{resolution_rig.api}/v1/escalations/{esc['escalation_id']}/resolve", {}, TOKEN)  # idempotent

    bootstrap = resolution_rig.stack.kafka_bootstrap
    assert bootstrap
    records = [
        r for r in kafka_tools.read_json(bootstrap, Topics.OUTCOMES) if r["escalation_id"] == esc["escalation_id"]
    ]
    assert len(records) == 1, "resolving twice publishes once"
    resolution = Resolution.model_validate(records[0])
    assert (resolution.incident_id, resolution.revision, resolution.desa_code) == (
        esc["incident_id"],
        1,
        "36.04.13.2007",
    )
    assert resolution.resolved_by == "polres-serang" and resolution.rules == ["online_scam_job_destination"]


def test_while_kafka_is_away_resolving_answers_503_and_changes_nothing(resolution_rig: NotifyRig) -> None:
    esc = escalation(severity="HIGH", score=70)
    resolution_rig.publish(esc)
    wait_for(lambda: _stored(resolution_rig, esc["escalation_id"]), timeout=30, what="the escalation stored")
    resolution_rig.stack.processes["broker"].stop()
    started = time.monotonic()
    status, body = http("POST", f"{resolution_rig.api}/v1/escalations/{esc['escalation_id']}/resolve", {}, TOKEN)
    assert status == 503 and "Kafka" in body["detail"], body
    assert time.monotonic() - started < 15
    _, record = http("GET", f"{resolution_rig.api}/v1/escalations/{esc['escalation_id']}", token=TOKEN)
    assert record["status"] == "open", "a resolution triage cannot learn of is not made"
