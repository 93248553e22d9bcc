"""Topic names and the partition plan: the only place either is written down.

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

    INPUTS: Final = (TIPS, DEPARTURE_ANOMALIES, RECRUITER_SIGHTINGS)
    ALL: Final = (*INPUTS, ESCALATIONS, DEADLETTER, OUTCOMES)

    BY_EVENT_TYPE: Final = {
        "tip": TIPS,
        "departure_anomaly": DEPARTURE_ANOMALIES,
        "recruiter_sighting": RECRUITER_SIGHTINGS,
    }
