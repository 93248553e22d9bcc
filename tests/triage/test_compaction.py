"""Triage's changelog on Apache Kafka is compacted, and a restart after the cleaner ran rebuilds the same state.

The changelog is made to roll a segment every second and to be cleaned at any dirty ratio, and the
broker's cleaner to look every half second, so that compaction happens within the test. Each round
of events changes every village once, and triage commits between rounds, so each village has one
changelog record per round (but the seventh, an event_id seen before, which changes nothing), one
segment per round. Once the cleaner ran, reading the changelog
from its start gives at most two records per village (the cleaner keeps the latest of the closed
segments and never touches the active one) where there were six, at the same end offsets. Triage
then starts again on that compacted log, and every village's next revision continues its incident
with the counts of every event before: the state rebuilt is the state it had.
"""

import asyncio
import time
from collections import Counter, defaultdict

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from devstack.stack import Stack
from schemas.escalation import Escalation, Severity
from schemas.regions import region_table
from schemas.topics import CHANGELOG_CONFIG, Topics
from tests.kafka_log import end_offsets, set_topic_configs, topic_configs
from tests.support import wait_for
from tests.triage.broker import consumed_everything, produce, read_all
from tests.triage.test_crash import _critical, _phase_a

pytestmark = [pytest.mark.integration, pytest.mark.broker("kafka")]
CHANGELOG = Topics.VILLAGES_CHANGELOG
VILLAGES = region_table().villages_under("35.01")[:8]
WARM_UP = region_table().villages_under("32.01")[0]
ROUNDS = 7
"""The seven events of test_crash's stream, one per village per round."""


def _cleaner_every_half_second(bootstrap: str) -> None:
    async def run() -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        try:
            resource = ConfigResource(ConfigResourceType.BROKER, "1", {"log.cleaner.backoff.ms": "500"})
            (answer,) = (await admin.alter_configs([resource]))[-1:]
            assert all(r[0] == 0 for r in answer.resources), answer
        finally:
            await admin.close()

    asyncio.run(run())


def _per_village(bootstrap: str) -> Counter[str]:
    return Counter(r.key.decode() for r in read_all(bootstrap, CHANGELOG) if r.key and r.key.decode() in VILLAGES)


def _escalations(bootstrap: str) -> list[tuple[bytes, Escalation]]:
    return [(r.value, Escalation.model_validate_json(r.value)) for r in read_all(bootstrap, Topics.ESCALATIONS)]


def test_triage_restarted_on_a_compacted_changelog_rebuilds_the_same_state(lone_triage: Stack) -> None:
    stack = lone_triage
    try:
        stack.start_broker()
        bootstrap = stack.kafka_bootstrap
        assert bootstrap
        stack.start_service("triage")
        produce(bootstrap, [_critical(WARM_UP)])
        wait_for(lambda: _escalations(bootstrap), timeout=60, what="the warm-up escalation")
        created = topic_configs(bootstrap, CHANGELOG)
        assert {k: created[k] for k in CHANGELOG_CONFIG} == CHANGELOG_CONFIG, "triage's changelog is not compacted"
        set_topic_configs(
            bootstrap,
            CHANGELOG,
            {
                **CHANGELOG_CONFIG,
                "segment.ms": "1000",
                "min.cleanable.dirty.ratio": "0.01",
                "min.compaction.lag.ms": "0",
            },
        )
        _cleaner_every_half_second(bootstrap)

        streams = {desa: _phase_a(desa, n) for n, desa in enumerate(VILLAGES)}
        for step in range(ROUNDS):
            produce(bootstrap, [streams[desa][step] for desa in VILLAGES])
            wait_for(lambda: consumed_everything(bootstrap, "waspada-triage"), timeout=60, what=f"round {step}")
            time.sleep(1.1)  # past segment.ms: the next round's records open a new segment
        before = _escalations(bootstrap)
        stack.stop("triage")  # everything from here on comes from the compacted log

        written = sum(end_offsets(bootstrap, CHANGELOG).values())

        def compacted_enough() -> Counter[str] | None:
            counts = _per_village(bootstrap)
            return counts if counts and max(counts.values()) <= 2 else None

        compacted = wait_for(compacted_enough, timeout=60, what="the log cleaner to compact the changelog")
        assert set(compacted) == set(VILLAGES)
        assert sum(end_offsets(bootstrap, CHANGELOG).values()) == written, "compaction keeps the offsets"
        kept = len(read_all(bootstrap, CHANGELOG))  # 49 written (six state changes per village and the warm-up's)
        assert kept <= 2 * len(VILLAGES) + 1 and written >= (ROUNDS - 1) * len(VILLAGES), (kept, written)

        stack.start_service("triage")
        produce(bootstrap, [_critical(desa) for desa in VILLAGES])

        def all_critical() -> list[tuple[bytes, Escalation]]:
            found = _escalations(bootstrap)
            return found if {e.desa_code for _, e in found if e.severity is Severity.CRITICAL} >= set(VILLAGES) else []

        after = wait_for(all_critical, timeout=90, what="every village to reach CRITICAL after the restart")
    finally:
        stack.stop()

    assert {body for body, _ in before} <= {body for body, _ in after}
    by_village: dict[str, dict[int, Escalation]] = defaultdict(dict)
    for _, escalation in after:
        by_village[escalation.desa_code][escalation.revision] = escalation
    for desa in VILLAGES:
        revisions = by_village[desa]
        assert sorted(revisions) == list(range(1, len(revisions) + 1)), f"gap in the revisions of {desa}"
        assert len({e.incident_id for e in revisions.values()}) == 1, f"{desa}: the restart opened a new incident"
        previous = max(e.revision for _, e in before if e.desa_code == desa)
        last = revisions[max(revisions)]
        assert last.revision == previous + 1 and last.severity is Severity.CRITICAL
        assert last.event_count == 7, (desa, last.event_count)  # every event before the restart, counted once
        assert last.event_types == {"tip": 3, "departure_anomaly": 3, "recruiter_sighting": 1}
