"""Keyed pseudonyms: stable across spellings of one identifier, unreadable, key-dependent."""

import uuid
from datetime import UTC, datetime

from schemas import DepartureAnomaly
from services.common.deidentify import deidentify
from services.common.pseudonym import normalise_phone, pseudonym

KEY = b"test-key-0123456789abcdef"


def test_indonesian_phone_spellings_normalise_to_one_e164() -> None:
    assert {normalise_phone(p) for p in ("0812-3456-7890", "+62 812 3456 7890", "6281234567890")} == {"+6281234567890"}


def test_same_person_same_pseudonym_other_key_other_pseudonym() -> None:
    a = pseudonym(KEY, "document", "c 123 4567")
    assert a == pseudonym(KEY, "document", "C1234567")
    assert a != pseudonym(b"another-key-0123456789", "document", "C1234567")
    assert a.startswith("psn_") and len(a) == 36


def test_event_leaves_with_no_identifier_in_clear() -> None:
    event = DepartureAnomaly(
        event_id=uuid.uuid4(),
        occurred_at=datetime.now(UTC),
        desa_code="36.04.13.2007",
        checkpoint="TPI-SOETTA",
        traveller="C1234567",
        age=19,
        sex="F",
        declared_purpose="tourism",
        destination_country="MY",
        action="delayed",
        reporter={"name": "Pak Budi", "phone": "0812-1111-2222"},
    )
    assert event.has_clear_identifiers()
    clean, _ = deidentify(event, KEY)
    assert not clean.has_clear_identifiers()
    text = clean.model_dump_json()
    assert "C1234567" not in text and "Budi" not in text and "1111" not in text
