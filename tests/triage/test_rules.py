"""Every rule of the shipped policy fires on the event it describes, and not on a near miss."""

from collections.abc import Callable
from typing import Any

import pytest

from schemas.events import InputEvent
from services.triage.policy import Policy
from services.triage.rules import assess, fired
from tests.triage.conftest import departure, person, sighting, tip

Factory = Callable[..., InputEvent]
SCAM = "Lowongan admin di Kamboja, syarat hanya paspor dan bisa mengetik"

# rule id → (factory, fields that make it fire, fields of a near miss that must not fire it)
EXAMPLES: dict[str, tuple[Factory, dict[str, Any], dict[str, Any]]] = {
    "H1": (departure, {"age": 16}, {"age": 18}),
    "H1.T": (tip, {"minors_involved": True}, {"minors_involved": False}),
    "H2": (
        tip,
        {"description": "Anaknya disekap di Kamboja, ponselnya disita dan keluarga diminta tebusan Rp30 juta"},
        {"description": "Anaknya bekerja di Kamboja dan jarang menelepon keluarga"},
    ),
    "H3": (
        sighting,
        {"description": "Paspor asli warga ditahan oleh sponsor sampai berangkat"},
        {"description": "Sponsor meminta fotokopi paspor warga"},
    ),
    "H4": (departure, {"indicators": ["suspected_fake_document"]}, {"indicators": ["one_way_ticket"]}),
    "H4.T": (tip, {"category": "document_fraud"}, {"category": "other"}),
    "H3.R": (sighting, {"activity": ["document_collection"]}, {"activity": ["door_to_door"]}),
    "S1": (
        departure,
        {"indicators": ["no_work_visa"], "declared_purpose": "tourism"},
        {"indicators": ["no_work_visa"], "declared_purpose": "work"},
    ),
    "S1.T": (
        tip,
        {"category": "recruitment_offer", "description": "Warga diajak kerja di Malaysia pakai visa turis"},
        {"category": "recruitment_offer", "description": "Warga diajak kerja di Malaysia lewat P3MI resmi"},
    ),
    "S2": (departure, {"indicators": ["no_epmi"]}, {"indicators": []}),
    "S2.visa": (
        departure,
        {"declared_purpose": "work", "indicators": ["no_work_visa"]},
        {"declared_purpose": "work", "indicators": []},
    ),
    "S3": (
        tip,
        {"category": "online_scam_job", "destination_country": "MM"},
        {"category": "online_scam_job", "destination_country": "JP"},
    ),
    "S3.R": (
        sighting,
        {"promised_destination": "KH", "promised_job": "Admin customer service"},
        {"promised_destination": "KH", "promised_job": "Juru masak restoran"},
    ),
    "S5": (
        sighting,
        {"activity": ["door_to_door"], "licensed_agency": None},
        {"activity": ["door_to_door"], "licensed_agency": True},
    ),
    "S5.izin": (sighting, {"licensed_agency": False}, {"licensed_agency": None}),
    "S6": (
        tip,
        {"description": "Keluarga diberi uang muka Rp5 juta, nanti dipotong gaji"},
        {"description": "Keluarga diberi brosur perusahaan"},
    ),
    "S6.R": (sighting, {"activity": ["fee_collected"]}, {"activity": []}),
    "S7": (
        tip,
        {"description": "Ditawari jadi PRT dengan gaji besar", "destination_country": "SA"},
        {"description": "Ditawari jadi PRT dengan gaji besar", "destination_country": "HK"},
    ),
    "S7.R": (
        sighting,
        {"promised_job": "asisten rumah tangga", "promised_destination": "AE"},
        {"promised_job": "asisten rumah tangga", "promised_destination": "SG"},
    ),
    "S8": (departure, {"indicators": ["previous_refusal"]}, {"indicators": []}),
    "T.korban": (tip, {"category": "suspected_victim"}, {"category": "other"}),
    "X2.R": (sighting, {"persons_approached": 3}, {"persons_approached": 2}),
    "T.rekrut": (tip, {"category": "suspicious_departure"}, {"category": "other"}),
    "M1": (departure, {"indicators": ["inconsistent_story"]}, {"indicators": []}),
    "M2": (departure, {"indicators": ["ticket_paid_by_third_party"]}, {"indicators": []}),
    "M2.R": (sighting, {"activity": ["transport_arranged"]}, {"activity": []}),
    "M2.T": (tip, {"persons_involved": 5}, {"persons_involved": 4}),
    "M3": (departure, {"indicators": ["one_way_ticket"]}, {"indicators": []}),
    "M4": (tip, {"description": "Gaji 12 juta per bulan untuk lulusan SMP"}, {"description": "Gaji sesuai UMR"}),
    "M5": (tip, {"category": "online_scam_job"}, {"category": "recruitment_offer"}),
    "M5.teks": (
        tip,
        {"description": "Lowongan beredar di grup WA desa"},
        {"description": "Lowongan ditempel di balai desa"},
    ),
    "M5.R": (sighting, {"activity": ["social_media_offer"]}, {"activity": []}),
    "M6": (tip, {"description": "Program magang ke Jepang lewat agen"}, {"description": "Program kuliah di Jepang"}),
    "M8": (
        departure,
        {"destination_country": "SA", "declared_purpose": "visit", "occurred_at": "2025-05-10T08:00:00+07:00"},
        {"destination_country": "SA", "declared_purpose": "visit", "occurred_at": "2025-09-10T08:00:00+07:00"},
    ),
    "N1": (
        departure,
        {"declared_purpose": "work", "indicators": ["one_way_ticket"]},
        {"declared_purpose": "work", "indicators": ["no_epmi"]},
    ),
    "N2": (
        departure,
        {"declared_purpose": "umrah", "indicators": []},
        {"declared_purpose": "umrah", "indicators": ["one_way_ticket"]},
    ),
    "N3": (
        departure,
        {"declared_purpose": "visit", "indicators": []},
        {"declared_purpose": "visit", "indicators": ["sponsor_accompanied"]},
    ),
}


def test_every_rule_of_the_shipped_policy_has_an_example(policy: Policy) -> None:
    assert {rule.id for rule in policy.rules} == set(EXAMPLES)


@pytest.mark.parametrize("rule_id", sorted(EXAMPLES))
def test_rule_fires_on_its_example_and_not_on_a_near_miss(policy: Policy, rule_id: str) -> None:
    factory, fields, near_miss = EXAMPLES[rule_id]
    assert rule_id in {rule.id for rule in fired(policy, factory(**fields))}
    assert rule_id not in {rule.id for rule in fired(policy, factory(**near_miss))}


@pytest.mark.parametrize("rule_id", sorted(EXAMPLES))
def test_reason_is_readable_and_names_no_person(policy: Policy, rule_id: str) -> None:
    factory, fields, _ = EXAMPLES[rule_id]
    event = factory(**fields)
    reason = next(r for r in assess(policy, event).reasons if r.rule == rule_id)
    assert reason.detail and "{" not in reason.detail
    for identifier in (person(1), person(900), str(event.event_id)):
        assert identifier not in reason.detail


def test_a_dimension_is_capped_so_one_fact_restated_counts_once(policy: Policy) -> None:
    # sponsor_accompanied, group_same_sponsor and ticket_paid_by_third_party are one fact (M2, cap 15)
    event = departure(indicators=["sponsor_accompanied", "group_same_sponsor", "ticket_paid_by_third_party"])
    assessment = assess(policy, event)
    assert [(r.rule, r.weight) for r in assessment.reasons] == [("M2", 15)]
    # two rules of one dimension: the second only fills what the cap leaves
    both = assess(policy, sighting(activity=["door_to_door"], licensed_agency=False))
    assert [(r.rule, r.weight) for r in both.reasons] == [("S5", 20), ("S5.izin", 10)]
    assert both.score == 30


def test_mitigation_lowers_the_score_but_never_below_a_hard_floor(policy: Policy) -> None:
    adult = assess(policy, departure(declared_purpose="tourism", indicators=[], age=30))
    assert adult.score == 0 and [r.rule for r in adult.reasons] == ["N3"]
    minor = assess(policy, departure(declared_purpose="tourism", indicators=[], age=15))
    assert {r.rule for r in minor.reasons} == {"H1", "N3"}
    assert minor.score == 60, "H1 is a hard trigger: HIGH whatever the mitigation"
    assert "pemicu wajib" in next(r.detail for r in minor.reasons if r.rule == "H1")


def test_score_is_clamped_to_100_and_categories_are_a_vector(policy: Policy) -> None:
    event = tip(
        category="suspected_victim",
        minors_involved=True,
        destination_country="KH",
        description=f"{SCAM}. Paspor asli ditahan di penampungan, lalu disekap dan diminta tebusan.",
    )
    assessment = assess(policy, event)
    assert assessment.score == 100
    assert assessment.categories["TPPO"] > 0


def test_detail_uses_officer_words_for_enum_values(policy: Policy) -> None:
    reason = assess(policy, departure(age=15, declared_purpose="umrah", destination_country="SA")).reasons[0]
    assert reason.detail.startswith("Anak di bawah 18 tahun berangkat ke SA (tujuan dinyatakan: umrah)")
    reason = assess(policy, departure(indicators=["no_work_visa"], declared_purpose="tourism")).reasons[0]
    assert "wisata" in reason.detail
