"""CONTRACT §5's table, one test per row, through the same ``decide`` step the agent runs."""

import json
from datetime import timedelta

from schemas.escalation import Escalation, Severity
from tests.triage.conftest import NOW, Village, departure, person, sighting, tip


def _last(village: Village) -> Escalation:
    return Escalation.model_validate_json(village.published[-1])


def test_minor_departing_not_for_work_is_high_or_above(village: Village) -> None:
    decision = village.feed(departure(age=16, declared_purpose="tourism", indicators=[]))
    assert decision.outcome == "escalated"
    assert _last(village).severity in {Severity.HIGH, Severity.CRITICAL}
    assert "H1" in [r.rule for r in _last(village).reasons]


def test_one_way_sponsor_no_epmi_is_medium_or_above(village: Village) -> None:
    village.feed(departure(indicators=["one_way_ticket", "sponsor_accompanied", "no_epmi"]))
    escalation = _last(village)
    assert escalation.severity.rank >= Severity.MEDIUM.rank
    assert {"S2", "M2", "M3"} <= {r.rule for r in escalation.reasons}
    assert escalation.categories[0] == "PMI_NP"


def test_online_scam_job_to_kh_mm_la_is_medium_or_above(village: Village) -> None:
    for country in ("KH", "MM", "LA"):
        fresh = Village(village.policy)
        fresh.feed(tip(category="online_scam_job", destination_country=country))
        assert _last(fresh).severity.rank >= Severity.MEDIUM.rank, country
        assert _last(fresh).categories == ["TPPO"]


def test_recruiter_and_two_departures_within_30_days_make_one_high_incident(village: Village) -> None:
    village.feed(sighting(activity=["door_to_door"], occurred_at=(NOW - timedelta(days=20)).isoformat()))
    village.feed(
        departure(traveller=person(1), indicators=["one_way_ticket"], occurred_at=(NOW - timedelta(days=9)).isoformat())
    )
    village.feed(departure(traveller=person(2), indicators=["one_way_ticket"]))
    escalation = _last(village)
    assert escalation.severity.rank >= Severity.HIGH.rank
    assert {e.incident_id for e in map(Escalation.model_validate_json, village.published)} == {escalation.incident_id}
    assert escalation.event_types == {"recruiter_sighting": 1, "departure_anomaly": 2}
    correlation = next(r for r in escalation.reasons if r.rule == "X2")
    assert "2 anomali keberangkatan" in correlation.detail


def test_recruiter_and_departures_more_than_30_days_apart_do_not_correlate(village: Village) -> None:
    village.feed(sighting(activity=["door_to_door"], occurred_at=(NOW - timedelta(days=29)).isoformat()))
    village.feed(departure(traveller=person(1), occurred_at=(NOW - timedelta(days=29)).isoformat()))
    village.feed(departure(traveller=person(2), occurred_at=(NOW + timedelta(days=2)).isoformat()))
    assert all(r.rule != "X2" for e in village.published for r in Escalation.model_validate_json(e).reasons)


def test_lone_other_tip_is_low_recorded_not_escalated(village: Village) -> None:
    decision = village.feed(tip(category="other", description="Ada orang asing berkeliling desa menanyakan warga"))
    assert decision.outcome == "recorded"
    assert decision.assessment is not None and decision.assessment.score < 40
    assert village.published == []
    assert village.state.incident is not None and village.state.incident.event_count == 1


def test_same_event_id_again_is_counted_once(village: Village) -> None:
    event = tip(category="online_scam_job", destination_country="KH")
    assert village.feed(event, channel="village-wa").outcome == "escalated"
    # the same event via another path (a direct publisher): same event_id, other channel
    assert village.feed(event, channel="direct").outcome == "duplicate"
    assert village.state.incident is not None and village.state.incident.event_count == 1


def test_near_identical_reports_merge_without_a_new_escalation(village: Village) -> None:
    text = "Seorang sponsor menawarkan kerja admin di Kamboja dengan gaji Rp12 juta per bulan, syarat hanya paspor."
    first = village.feed(tip(category="online_scam_job", destination_country="KH", description=text))
    again = village.feed(
        tip(
            category="online_scam_job",
            destination_country="KH",
            description="Syarat hanya paspor. Seorang sponsor menawarkan kerja admin di Kamboja, gaji Rp 12 juta"
            " per bulan",
            occurred_at=(NOW + timedelta(hours=5)).isoformat(),
        )
    )
    assert (first.outcome, again.outcome) == ("escalated", "merged")
    assert len(village.published) == 1
    assert village.state.incident is not None and village.state.incident.event_count == 2


def test_near_duplicate_that_raises_severity_escalates(village: Village) -> None:
    text = "Sponsor menawarkan kerja admin di Kamboja, gaji Rp12 juta per bulan, syarat hanya paspor"
    village.feed(tip(category="online_scam_job", destination_country="KH", description=text))
    raised = village.feed(
        tip(category="online_scam_job", destination_country="KH", minors_involved=True, description=text)
    )
    assert raised.outcome == "escalated"
    assert [Escalation.model_validate_json(e).revision for e in village.published] == [1, 2]


def test_escalation_carries_no_personal_identifier(village: Village) -> None:
    village.feed(sighting(recruiter=person(77), reporter=person(78), activity=["door_to_door", "fee_collected"]))
    village.feed(departure(traveller=person(79), age=15))
    text = json.dumps([json.loads(e) for e in village.published])
    for identifier in (person(77), person(78), person(79)):
        assert identifier not in text
