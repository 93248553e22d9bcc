"""Topic names, the partition plan and the topics' configs: the only place any of them is written down.

Every topic Faust joins (the three inputs, and its changelogs) must have the same partition
count, or co-partitioned tables break; so there is one count for all of them.
"""

from typing import Final

PARTITIONS: Final = 4
"""Partitions of every Waspada topic. Triage runs at most this many workers."""


class Topics:
    """The fixed topic names of CONTRACT §4, all keyed by ``desa_code``."""

    TIPS: Final = "waspada.tips.v1"
    DEPARTURE_ANOMALIES: Final = "waspada.departure-anomalies.v1"
    RECRUITER_SIGHTINGS: Final = "waspada.recruiter-sightings.v1"
    ESCALATIONS: Final = "waspada.escalations.v1"
    DEADLETTER: Final = "waspada.deadletter.v1"
    OUTCOMES: Final = "waspada.outcomes.v1"
    """Resolutions (CONTRACT §11), published by notify and read by triage, which closes the incident."""

    VILLAGES_CHANGELOG: Final = "waspada-triage-villages-changelog"
    """Triage's village table: Faust names it ``<WASPADA_TRIAGE_APP_ID>-villages-changelog`` and creates it
    compacted at start; deploy/k8s declares it too (min.insync.replicas is not Faust's to set). Not in
    ``ALL``: the services' ``ensure_topics`` leaves it to Faust."""

    INPUTS: Final = (TIPS, DEPARTURE_ANOMALIES, RECRUITER_SIGHTINGS)
    ALL: Final = (*INPUTS, ESCALATIONS, DEADLETTER, OUTCOMES)

    BY_EVENT_TYPE: Final = {
        "tip": TIPS,
        "departure_anomaly": DEPARTURE_ANOMALIES,
        "recruiter_sighting": RECRUITER_SIGHTINGS,
    }


DAY_MS: Final = 24 * 3600 * 1000

RETENTION_MS: Final = {
    **dict.fromkeys(Topics.INPUTS, 7 * DAY_MS),  # replayable for a week: triage's state is in its changelog
    Topics.ESCALATIONS: 30 * DAY_MS,
    Topics.DEADLETTER: 30 * DAY_MS,
    Topics.OUTCOMES: 400 * DAY_MS,  # a resolution closes its incident whenever triage reads it
}
"""How long each Waspada topic keeps its records (``retention.ms``); all of them are delete-policy logs."""

CHANGELOG_CONFIG: Final = {"cleanup.policy": "compact"}
"""Triage's table changelogs (``<app id>-<table>-changelog``, which Faust creates): one live record per
village is all a restart reads, so the broker may drop the older ones (Apache Kafka's log cleaner;
the embedded broker does not compact)."""


def topic_config(topic: str) -> dict[str, str]:
    """The configs a Waspada topic is created with, as ``ensure_topics``, compose and deploy/k8s set them."""
    return {"cleanup.policy": "delete", "retention.ms": str(RETENTION_MS[topic])}
