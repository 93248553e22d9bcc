"""services/common/deidentify.py, pseudonym.py and envelope.py, as ingest uses them: documents, phones, the record."""

import uuid
from datetime import UTC, datetime

from schemas.events import DepartureAnomaly, RecruiterSighting
from services.common.deidentify import deidentify
from services.common.envelope import envelope
from services.common.pseudonym import is_pseudonym, pseudonym
from tests.factories import departure

KEY = b"unit-test-key-0123456789"


def test_nik_traveller_is_a_document_not_a_phone() -> None:
    event = DepartureAnomaly.model_validate(departure(traveller="3201 2345 6789 0001"))
    clean, _ = deidentify(event, KEY)
    assert isinstance(clean, DepartureAnomaly)
    assert clean.traveller == pseudonym(KEY, "document", "3201234567890001")
    assert clean.traveller != pseudonym(KEY, "phone", "3201234567890001")


def test_recruiter_phone_spellings_link_and_fake_pseudonyms_are_hashed() -> None:
    base = {"event_id": str(uuid.uuid4()), "occurred_at": datetime.now(UTC).isoformat(), "desa_code": "36.04.13.2007"}
    a = RecruiterSighting.model_validate({**base, "recruiter": "0813-9999-0000", "persons_approached": 1})
    b = RecruiterSighting.model_validate({**base, "recruiter": "+62 813 9999 0000", "persons_approached": 1})
    assert deidentify(a, KEY)[0].recruiter == deidentify(b, KEY)[0].recruiter  # type: ignore[union-attr]
    fake = "psn_" + "Z" * 32  # looks like a pseudonym, is not one: hashed like any other handle
    c = RecruiterSighting.model_validate({**base, "recruiter": fake, "persons_approached": 1})
    assert deidentify(c, KEY)[0].recruiter != fake  # type: ignore[union-attr]
    assert is_pseudonym(pseudonym(KEY, "handle", "x")) and not is_pseudonym(fake)


def test_envelope_is_keyed_by_village_and_carries_no_clear_identifier() -> None:
    event = DepartureAnomaly.model_validate(
        departure(traveller="C1234567", reporter={"name": "Pak Budi", "phone": "0812-1111-2222"})
    )
    record = envelope(event, pseudonym_key=KEY, channel="tpi")
    assert record.topic == "waspada.departure-anomalies.v1" and record.key == b"36.04.13.2007"
    assert b"C1234567" not in record.value and b"Budi" not in record.value and b"1111" not in record.value
    assert dict(record.headers)["waspada-channel"] == b"tpi"
