"""Incidents: correlation windows, corroboration, lifecycle, bounded state, deterministic revisions."""

from datetime import timedelta

from schemas.escalation import Escalation
from services.triage.policy import Policy
from services.triage.state import VillageState
from tests.triage.conftest import NOW, Village, departure, person, sighting, tip


def _escalations(village: Village) -> list[Escalation]:
    return [Escalation.model_validate_json(body) for body in village.published]


def test_same_recruiter_through_independent_channels_corroborates(village: Village) -> None:
    recruiter = person(40)
    village.feed(sighting(recruiter=recruiter, activity=["door_to_door"], description="A"), channel="village-wa")
    village.feed(sighting(recruiter=recruiter, activity=["door_to_door"], description="B"), channel="bp3mi")
    village.feed(sighting(recruiter=recruiter, activity=["door_to_door"], description="C"), channel="polres")
    reasons = {r.rule: r for r in _escalations(village)[-1].reasons}
    assert reasons["X1"].weight == 30 and "3 kanal" in reasons["X1"].detail


def test_one_channel_or_one_reporter_does_not_corroborate(village: Village) -> None:
    recruiter, reporter = person(41), person(42)
    village.feed(sighting(recruiter=recruiter, activity=["door_to_door"], description="A"), channel="village-wa")
    village.feed(sighting(recruiter=recruiter, activity=["door_to_door"], description="B"), channel="village-wa")
    village.feed(sighting(recruiter=recruiter, reporter=reporter, description="C"), channel="polres")
    village.feed(sighting(recruiter=recruiter, reporter=reporter, description="D"), channel="bp3mi")
    x1 = [r for e in _escalations(village) for r in e.reasons if r.rule == "X1"]
    assert all(r.weight == 15 for r in x1), "village-wa and polres: one extra channel; the reporter's second is not"


def test_revisions_only_when_severity_rises(village: Village) -> None:
    village.feed(tip(category="online_scam_job", destination_country="KH", description="satu"))  # MEDIUM
    village.feed(tip(category="online_scam_job", destination_country="MM", description="dua dua"))  # still MEDIUM
    village.feed(departure(age=15))  # HIGH
    village.feed(departure(age=17, traveller=person(2), indicators=[]))  # still HIGH
    village.feed(tip(category="suspected_victim", minors_involved=True, description="anak disekap, diminta tebusan"))
    assert [(e.revision, e.severity.value) for e in _escalations(village)] == [
        (1, "MEDIUM"),
        (2, "HIGH"),
        (3, "CRITICAL"),
    ]
    last = _escalations(village)[-1]
    assert last.event_count == 5 and last.ack_within_s == 30 * 60
    assert _escalations(village)[1].ack_within_s == 4 * 3600 and _escalations(village)[0].ack_within_s is None


def test_replay_produces_identical_ids_and_bytes(policy: Policy) -> None:
    events = [
        sighting(activity=["door_to_door"]),
        departure(traveller=person(1)),
        departure(traveller=person(2), indicators=["no_epmi", "one_way_ticket"]),
        tip(minors_involved=True),
    ]
    first, second = Village(policy), Village(policy)
    for event in events:
        first.feed(event, channel="a", at=NOW)
    for event in events:
        second.feed(event, channel="a", at=NOW)
    assert first.published == second.published and first.published


def test_created_at_is_the_triggering_record_time_not_the_clock(village: Village) -> None:
    at = NOW + timedelta(minutes=3)
    village.feed(departure(age=15), at=at)
    assert _escalations(village)[0].created_at == at


def test_replayed_trigger_resends_its_revision_unchanged(village: Village) -> None:
    trigger = departure(age=15)
    village.feed(trigger, position="da:0:7")
    decision = village.feed(trigger, position="da:0:7")  # crash after the state was written, before the send
    assert decision.outcome == "duplicate" and decision.replay == village.published[0]
    copy = village.feed(trigger, position="da:0:9")  # the same event through another path
    assert copy.outcome == "duplicate" and copy.replay is None
    other = tip(description="biasa")
    village.feed(other, position="tips:0:1")
    assert village.feed(other, position="tips:0:1").replay is None, "only triggers of revisions are re-sent"


def test_an_idle_incident_closes_and_the_next_event_opens_a_new_one(village: Village) -> None:
    village.feed(departure(age=15, occurred_at=(NOW - timedelta(days=40)).isoformat()))
    village.feed(departure(age=16, traveller=person(2)))
    first, second = _escalations(village)
    assert first.incident_id != second.incident_id and second.revision == 1


def test_state_is_bounded(policy: Policy) -> None:
    village = Village(policy)
    for i in range(policy.recent_events_per_village + 50):
        village.feed(tip(description=f"laporan nomor {i} tentang hal berbeda {i * 7}"))
    state = village.state
    assert len(state.seen) == policy.recent_events_per_village
    assert sum(1 for entry in state.seen if entry.text) <= policy.near_duplicate.max_texts_per_village
    assert state.incident is not None and state.incident.event_count == policy.recent_events_per_village + 50


def test_old_entries_and_texts_expire(village: Village) -> None:
    village.feed(tip(description="laporan lama", occurred_at=(NOW - timedelta(days=9)).isoformat()))
    village.feed(tip(description="laporan kemarin", occurred_at=(NOW - timedelta(days=2)).isoformat()))
    village.feed(tip(description="laporan baru"))
    texts = [entry.text for entry in village.state.seen]
    assert texts[-1] == "laporan baru" and texts[:2] == [None, None]
    village.feed(tip(description="jauh kemudian", occurred_at=(NOW + timedelta(days=9, hours=23)).isoformat()))
    assert village.state.seen[0].text is None


def test_state_round_trips_through_bytes(village: Village) -> None:
    village.feed(sighting(activity=["door_to_door"], description="x"), channel="c")
    state = village.state
    assert VillageState.load(state.dump()) == state


def test_only_the_latest_revision_is_kept_for_resending(village: Village) -> None:
    medium = tip(category="online_scam_job", destination_country="KH")
    high = departure(age=15)
    village.feed(medium, position="tips:1:4")
    village.feed(high, position="da:1:9")
    assert village.feed(high, position="da:1:9").replay == village.published[1]
    assert village.feed(medium, position="tips:1:4").replay is None, "acknowledged before the next event"
