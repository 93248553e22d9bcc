"""First scoring rules of the walking skeleton: a few of DOMAIN.md §1.6's indicators, hard-coded.

Replaced by the declarative policy (config/policy.yaml) in issue 4.
"""

from schemas.escalation import Reason
from schemas.events import DepartureAnomaly, RecruiterSighting, Tip

SCAM_HUBS = frozenset({"KH", "MM", "LA"})


def score_event(event: Tip | DepartureAnomaly | RecruiterSighting) -> list[Reason]:
    """The reasons this one event contributes, each with its weight."""
    reasons: list[Reason] = []
    if isinstance(event, Tip):
        if event.minors_involved:
            reasons.append(Reason(rule="H1", weight=60, detail="Anak di bawah 18 tahun terlibat"))
        if event.category == "online_scam_job" and event.destination_country in SCAM_HUBS:
            reasons.append(
                Reason(rule="S3", weight=45, detail=f"Tawaran kerja online scam ke {event.destination_country}")
            )
    elif isinstance(event, DepartureAnomaly):
        if event.age < 18 and event.declared_purpose != "work":
            reasons.append(Reason(rule="H1", weight=65, detail="Anak di bawah 18 tahun berangkat ke luar negeri"))
        if {"one_way_ticket", "sponsor_accompanied", "no_epmi"} <= set(event.indicators):
            reasons.append(Reason(rule="S2", weight=45, detail="Tiket sekali jalan, didampingi sponsor, tanpa E-PMI"))
    elif isinstance(event, RecruiterSighting) and "door_to_door" in event.activity:
        reasons.append(Reason(rule="S5", weight=25, detail="Perekrut dari rumah ke rumah"))
    return reasons
