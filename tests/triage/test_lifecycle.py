"""An incident its offices resolved is closed in triage too (CONTRACT §5): the village pages again."""

from datetime import datetime, timedelta

from schemas.escalation import Escalation, Severity
from schemas.outcomes import Resolution
from services.triage.incidents import Arrival
from services.triage.lifecycle import close
from services.triage.policy import Policy
from services.triage.state import VillageState
from tests.triage.conftest import LONTAR, NOW, Village, departure, person, tip


def _resolve(village: Village, at: datetime, position: str = "waspada.outcomes.v1:0:7") -> list[Escalation]:
    """Resolve the village's current incident at ``at``, as notify publishes it; the revisions it caused."""
    state = village.state
    assert state.incident is not None
    escalation = Escalation.model_validate_json(village.published[-1])
    resolution = Resolution(
        escalation_id=escalation.escalation_id,
        incident_id=state.incident.incident_id,
        revision=escalation.revision,
        desa_code=LONTAR,
        resolved_by="polresta-serang-kota",
        resolved_at=at,
        rules=[r.rule for r in escalation.reasons],
    )
    decision = close(village.policy, state, resolution, Arrival(record_time=at, position=position))
    if decision.state is not None:
        village.raw = decision.state.dump()
    out = [decision.body] if decision.body else []
    out += [decision.replay] if decision.replay else []
    village.published += out
    return [Escalation.model_validate_json(body) for body in out]


def _minors_tip(text: str) -> dict[str, object]:
    return {"category": "suspected_victim", "minors_involved": True, "destination_country": "MY", "description": text}


def test_after_a_resolution_the_next_event_opens_a_new_incident_that_pages(village: Village) -> None:
    village.feed(departure(age=15), at=NOW)  # HIGH
    village.feed(tip(**_minors_tip("anak disekap di rumah penampungan")), at=NOW)  # CRITICAL
    resolved = Escalation.model_validate_json(village.published[-1])
    assert resolved.severity is Severity.CRITICAL
    assert _resolve(village, NOW + timedelta(hours=1)) == []
    assert village.state.incident is None

    first = village.feed(tip(**_minors_tip("dua anak dibawa sponsor ke Malaysia")), at=NOW + timedelta(hours=2))
    second = village.feed(tip(**_minors_tip("dua anak dibawa sponsor ke Malaysia!")), at=NOW + timedelta(hours=2))
    assert first.outcome == "escalated" and first.escalation is not None
    new = first.escalation
    assert new.incident_id != resolved.incident_id
    assert (new.revision, new.event_count) == (1, 1)
    assert new.severity.rank >= Severity.HIGH.rank
    assert second.outcome == "merged" and second.escalation is None  # the near-duplicate joins the new incident
    assert village.state.incident is not None and village.state.incident.event_count == 2


def test_an_event_taken_after_the_resolution_but_read_before_it_moves_to_a_new_incident(village: Village) -> None:
    """The race: the resolution is in flight while a late report reaches triage first."""
    village.feed(departure(age=15), at=NOW)  # HIGH, revision 1
    old = Escalation.model_validate_json(village.published[-1])
    resolved_at = NOW + timedelta(minutes=10)
    late = village.feed(tip(category="online_scam_job", destination_country="KH", description="lowongan"),
                        at=resolved_at + timedelta(seconds=2))  # fmt: skip
    assert late.outcome == "recorded"  # folded into the open (in triage's eyes) incident, no page

    carried = _resolve(village, resolved_at)
    assert len(carried) == 1, "the late tip pages as a new incident"
    new = carried[0]
    assert new.incident_id != old.incident_id
    assert (new.revision, new.event_count, new.event_types) == (1, 1, {"tip": 1})
    assert new.severity is Severity.MEDIUM
    assert new.created_at == resolved_at  # the resolution's record time: a replay rebuilds the same bytes


def test_an_event_taken_before_the_resolution_stays_in_the_resolved_incident(village: Village) -> None:
    village.feed(departure(age=15), at=NOW)
    village.feed(tip(category="other", description="tetangga bercerita"), at=NOW + timedelta(minutes=5))
    assert _resolve(village, NOW + timedelta(minutes=10)) == []
    assert village.state.incident is None


def test_a_late_event_below_medium_opens_a_new_incident_without_a_page(village: Village) -> None:
    village.feed(departure(age=15), at=NOW)
    village.feed(tip(category="other", description="kabar"), at=NOW + timedelta(minutes=11))
    assert _resolve(village, NOW + timedelta(minutes=10)) == []
    incident = village.state.incident
    assert incident is not None and incident.revision == 0 and incident.event_count == 1


def test_a_resolution_read_again_changes_nothing_and_resends_the_carried_revision(village: Village) -> None:
    village.feed(departure(age=15), at=NOW)
    village.feed(tip(category="online_scam_job", destination_country="KH"), at=NOW + timedelta(minutes=11))
    first = _resolve(village, NOW + timedelta(minutes=10))
    before = village.raw
    again = _resolve_again(village, first[0], NOW + timedelta(minutes=10))
    assert village.raw == before
    assert again == first[0].model_dump_json().encode(), "the very same record re-sends its revision byte for byte"


def _resolve_again(village: Village, carried: Escalation, at: datetime) -> bytes | None:
    resolved = village.state.resolved[-1]
    resolution = Resolution(
        escalation_id="e", incident_id=resolved, revision=1, desa_code=LONTAR, resolved_by="x", resolved_at=at
    )
    decision = close(
        village.policy, village.state, resolution, Arrival(record_time=at, position="waspada.outcomes.v1:0:7")
    )
    assert decision.outcome == "duplicate" and decision.state is None
    return decision.replay


def test_a_resolution_of_an_incident_triage_does_not_hold_is_stale(policy: Policy) -> None:
    resolution = Resolution(
        escalation_id="e", incident_id="not-this-one", revision=1, desa_code=LONTAR, resolved_by="x", resolved_at=NOW
    )
    decision = close(policy, VillageState(), resolution, Arrival(record_time=NOW))
    assert decision.outcome == "stale" and decision.state is None and decision.body is None


def test_every_escalation_carries_the_policy_version(village: Village, policy: Policy) -> None:
    village.feed(departure(age=15, traveller=person(3)))
    escalation = Escalation.model_validate_json(village.published[-1])
    assert escalation.policy_version == policy.fingerprint
    assert len(policy.fingerprint) == 64 and int(policy.fingerprint, 16) >= 0


def test_the_policy_version_follows_meaning_not_spelling(policy: Policy) -> None:
    raw = policy.model_dump(mode="json", by_alias=True)
    assert Policy.model_validate(dict(reversed(raw.items()))).fingerprint == policy.fingerprint
    changed = Policy.model_validate({**raw, "recent_events_per_village": policy.recent_events_per_village + 1})
    assert changed.fingerprint != policy.fingerprint
