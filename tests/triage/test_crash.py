"""SIGKILL the triage worker mid-stream and restart it: nothing lost, nothing changed, no gap.

Sixty villages each get a scripted stream (a LOW tip, a MEDIUM scam tip, two departure anomalies and a
recruiter sighting that correlate to HIGH, a near-duplicate, the same event_id again); the worker is
killed while the stream is still being produced, restarted, and then every village gets the tip that
makes it CRITICAL. The CRITICAL revision's ``event_count`` (7) proves that every event before the kill
was recovered from the changelog and counted exactly once.
"""

import threading
from collections import defaultdict

import pytest

from devstack.stack import Stack
from schemas.escalation import Escalation, Severity
from schemas.regions import region_table
from schemas.topics import Topics
from tests.support import healthz, wait_for
from tests.triage.broker import Record, consumed_everything, event_record, produce, read_all, uncommitted
from tests.triage.conftest import event_body, person, triage_only

pytestmark = pytest.mark.integration
VILLAGES = region_table().villages_under("36.04")[:60]
WARM_UP = region_table().villages_under("32.01")[0]


def _wait_for_catch_up(stack: Stack, bootstrap: str) -> None:
    """Wait until the restarted worker committed every input offset; on a timeout, say what it reports."""
    try:
        # ~20 s in a normal run; before consumer.py stopped Faust's offset gaps, the commit of one or two
        # partitions crawled one record per commit after the restart and this took up to 100 s
        wait_for(lambda: consumed_everything(bootstrap, "waspada-triage"), timeout=90, what="triage to catch up")
    except AssertionError as exc:
        health = healthz(stack, "triage")
        behind = uncommitted(bootstrap, "waspada-triage")
        raise AssertionError(
            f"{exc}; the worker's /healthz: {health}; not committed (committed/end): {behind}"
        ) from None


def _phase_a(desa: str, n: int) -> list[Record]:
    scam = event_body("tip", desa, category="online_scam_job", destination_country="KH", description=f"lowongan {n}")
    text = "berangkat bersama sponsor dengan tiket sekali jalan, mengaku wisata"
    return [
        event_record(event_body("tip", desa, description=f"orang asing berkeliling desa nomor {n}")),
        event_record(scam, channel="village-wa"),
        event_record(
            event_body("departure_anomaly", desa, traveller=person(1), indicators=["one_way_ticket", "no_epmi"])
        ),
        event_record(event_body("recruiter_sighting", desa, recruiter=person(9), activity=["door_to_door"])),
        event_record(event_body("departure_anomaly", desa, traveller=person(2), description=text)),
        event_record(event_body("departure_anomaly", desa, traveller=person(2), description=text + ".")),
        event_record(scam, channel=None),  # the same event_id via another path
    ]


def _critical(desa: str) -> Record:
    body = event_body(
        "tip",
        desa,
        category="suspected_victim",
        minors_involved=True,
        description="anak disekap, keluarga diminta tebusan",
    )
    return event_record(body)


def _escalations(bootstrap: str) -> list[tuple[bytes, Escalation]]:
    return [(r.value, Escalation.model_validate_json(r.value)) for r in read_all(bootstrap, Topics.ESCALATIONS)]


def test_sigkill_mid_stream_loses_no_incident_and_changes_no_revision(tmp_path) -> None:
    stack = triage_only(tmp_path)
    try:
        stack.start_broker()
        bootstrap = stack.kafka_bootstrap
        assert bootstrap
        stack.start_service("triage")
        produce(bootstrap, [_critical(WARM_UP)])  # wait until the worker has its partitions and works
        wait_for(lambda: _escalations(bootstrap), timeout=60, what="the warm-up escalation")
        records = [r for n, desa in enumerate(VILLAGES) for r in _phase_a(desa, n)]
        producer = threading.Thread(target=produce, args=(bootstrap, records, 0.006))
        producer.start()
        wait_for(lambda: len(_escalations(bootstrap)) >= 26, timeout=60, interval=0.05, what="first escalations")
        stack.processes["triage"].kill()
        assert producer.is_alive(), "the kill must land while the stream is still being produced"
        producer.join(60)
        stack.start_service("triage")
        _wait_for_catch_up(stack, bootstrap)
        produce(bootstrap, [_critical(desa) for desa in VILLAGES])

        def all_critical() -> list[tuple[bytes, Escalation]]:
            found = _escalations(bootstrap)
            critical = {e.desa_code for _, e in found if e.severity is Severity.CRITICAL}
            return found if critical >= set(VILLAGES) else []

        found = wait_for(all_critical, timeout=90, what="every village to reach CRITICAL")
    finally:
        stack.stop()

    bodies: dict[str, set[bytes]] = defaultdict(set)
    by_village: dict[str, dict[int, Escalation]] = defaultdict(dict)
    for body, escalation in found:
        bodies[escalation.escalation_id].add(body)
        by_village[escalation.desa_code][escalation.revision] = escalation
    assert all(len(copies) == 1 for copies in bodies.values()), "a revision was emitted twice with different content"
    for desa in VILLAGES:
        revisions = by_village[desa]
        assert sorted(revisions) == list(range(1, len(revisions) + 1)), f"gap in the revisions of {desa}"
        assert len({e.incident_id for e in revisions.values()}) == 1, f"{desa} split into several incidents"
        ranks = [revisions[r].severity.rank for r in sorted(revisions)]
        assert ranks == sorted(set(ranks)), f"severity did not rise at every revision of {desa}"
        last = revisions[max(revisions)]
        assert last.severity is Severity.CRITICAL and last.event_count == 7, (desa, last.event_count)
        assert last.event_types == {"tip": 3, "departure_anomaly": 3, "recruiter_sighting": 1}
