"""Free-text scrubbing: identifiers become the pseudonyms of the structured fields; other text stays."""

import uuid
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from schemas.events import RecruiterSighting, Tip
from services.common.deidentify import deidentify, has_clear_personal_data
from services.common.envelope import envelope
from services.common.pseudonym import normalise_phone, pseudonym
from services.common.scrub import may_hold_personal_data, scrub

KEY = b"test-key-0123456789abcdef"
INDONESIAN = pseudonym(KEY, "phone", "+6281234567890")
MALAYSIAN = pseudonym(KEY, "phone", "+60123456789")


@pytest.mark.parametrize(
    "written",
    ["0812-3456-7890", "+62 812 3456 7890", "6281234567890", "081234567890", "(0812) 3456-7890", "+62-812-3456-7890"],
)
def test_an_indonesian_mobile_in_any_spelling_becomes_one_pseudonym(written: str) -> None:
    result = scrub(f"Perekrut minta dihubungi di {written} malam ini.", KEY)
    assert result.text == f"Perekrut minta dihubungi di {INDONESIAN} malam ini."
    assert result.found == {"phone": 1}


@pytest.mark.parametrize("written", ["+60 12-345 6789", "+60123456789", "60123456789", "wa.me/60123456789"])
def test_a_malaysian_number_with_or_without_plus_is_malaysian(written: str) -> None:
    result = scrub(f"Agen di Johor: {written}", KEY)
    assert result.text.endswith(MALAYSIAN) and "6789" not in result.text
    assert result.found == {"phone": 1}


def test_foreign_numbers_in_their_own_formats() -> None:
    text = "Bos di Phnom Penh +855 12 345 678, kantor Dubai +971 50 123 4567, teman di Singapura 6591234567."
    result = scrub(text, KEY)
    assert result.found == {"phone": 3}
    for e164 in ("+85512345678", "+971501234567", "+6591234567"):
        assert pseudonym(KEY, "phone", e164) in result.text


def test_nik_passport_and_email() -> None:
    text = "NIK 3201123456789012 (KTP 3201 1234 5678 9012), paspor A1234567 dan X 1234567, email Agen.Budi@Mail.co.id"
    result = scrub(text, KEY)
    assert result.found == {"nik": 2, "passport": 2, "email": 1}
    assert result.text == (
        f"NIK {pseudonym(KEY, 'document', '3201123456789012')} (KTP {pseudonym(KEY, 'document', '3201123456789012')}), "
        f"paspor {pseudonym(KEY, 'document', 'A1234567')} dan {pseudonym(KEY, 'document', 'X1234567')}, "
        f"email {pseudonym(KEY, 'handle', 'agen.budi@mail.co.id')}"
    )


@pytest.mark.parametrize(
    "text",
    [
        "Tawaran kerja admin di Kamboja untuk remaja desa, tiket dibayar sponsor",
        "Gaji Rp 5.000.000 per bulan, potongan Rp 15.000.000, uang muka Rp1.500.000,00",
        "Berangkat tahun 2026, tanggal 12-03-2026 atau 12/03/2026 jam 08.00-17.00, 2020-2026",
        "Sebanyak 12 orang dari RT 003 RW 002, umur 17 dan 19 tahun, biaya 150 juta",
        "Hotline KP2MI 0800-1000 dan SAPA 129",
        "Laporan rutin warga nomor 667831634",  # a report number: bare digits too short for a phone
    ],
)
def test_text_without_identifiers_is_unchanged(text: str) -> None:
    result = scrub(text, KEY)
    assert result.text == text and not result.found


def test_a_landline_with_its_area_code_is_a_phone() -> None:
    result = scrub("Kantor agen di (021) 5551 2345, Jakarta", KEY)
    assert "5551" not in result.text and result.found == {"phone": 1}


def test_scrubbing_twice_changes_nothing() -> None:
    text = "WA 0812-3456-7890 / +60 12-345 6789 / 60123456789, NIK 3201123456789012, A1234567, x@y.co"
    once = scrub(text, KEY)
    twice = scrub(once.text, KEY)
    assert twice.text == once.text and not twice.found
    assert not may_hold_personal_data(once.text)  # triage's pre-check passes scrubbed text at once


def test_pseudonyms_inside_text_are_not_matched_again() -> None:
    tokens = " ".join(f"psn_{n:032x}" for n in (81234567890, 3201123456789012, 10**31 + 1234567))
    assert scrub(tokens, KEY).text == tokens


def test_structured_phones_read_as_libphonenumber_does() -> None:
    assert normalise_phone("60123456789") == "+60123456789"  # was +6260123456789
    assert normalise_phone("+60 12-345 6789") == "+60123456789"
    assert {normalise_phone(p) for p in ("0812-3456-7890", "81234567890", "6281234567890")} == {"+6281234567890"}
    assert normalise_phone("0812-1111") == "+628121111"  # not a valid number: spelled as it always was


def _sighting(**fields: Any) -> RecruiterSighting:
    base = {"event_id": str(uuid.uuid4()), "occurred_at": datetime.now(UTC).isoformat(), "desa_code": "36.04.13.2007"}
    return RecruiterSighting.model_validate({**base, "persons_approached": 2, **fields})


def test_a_number_typed_in_a_description_and_given_as_recruiter_has_one_pseudonym() -> None:
    named = orjson.loads(envelope(_sighting(recruiter="60123456789"), pseudonym_key=KEY, channel="c").value)
    typed = orjson.loads(
        envelope(
            _sighting(recruiter="Bang Joni", description="Bang Joni pakai WA +60 12-345 6789"),
            pseudonym_key=KEY,
            channel="c",
        ).value
    )
    assert named["recruiter"] == MALAYSIAN
    assert typed["description"] == f"Bang Joni pakai WA {named['recruiter']}"


def test_promised_job_is_scrubbed_and_counted() -> None:
    event = _sighting(recruiter="psn_" + "0" * 32, promised_job="admin, lamar ke hrd.kh@gmail.com")
    assert has_clear_personal_data(event) and not event.has_clear_identifiers()
    clean, found = deidentify(event, KEY)
    assert isinstance(clean, RecruiterSighting) and found == {"email": 1}
    assert clean.promised_job == f"admin, lamar ke {pseudonym(KEY, 'handle', 'hrd.kh@gmail.com')}"
    assert not has_clear_personal_data(clean)


def test_an_event_with_plain_text_needs_nothing() -> None:
    tip = Tip.model_validate(
        {
            "event_id": str(uuid.uuid4()),
            "occurred_at": datetime.now(UTC).isoformat(),
            "desa_code": "36.04.13.2007",
            "category": "online_scam_job",
            "persons_involved": 3,
            "minors_involved": False,
            "description": "Tawaran kerja admin di Kamboja, gaji Rp 15.000.000, berangkat 12-03-2026",
        }
    )
    assert not has_clear_personal_data(tip)
