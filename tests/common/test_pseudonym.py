"""Keyed pseudonyms: stable across spellings of one identifier, unreadable, key-dependent."""

import uuid
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from schemas import DepartureAnomaly
from services.common.deidentify import deidentify
from services.common.pseudonym import Kind, looks_like_phone, normalise_phone, pseudonym

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


INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"]
"""Zero-width space, non-joiner, joiner, word joiner, BOM and soft hyphen: what a chat app's copy carries."""


def _fullwidth(text: str) -> str:
    """ASCII letters and digits as their fullwidth forms (U+FF01..U+FF5E), as an IME types them."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


@given(
    kind=st.sampled_from(["phone", "document", "name", "handle"]),
    value=st.text(alphabet=st.characters(min_codepoint=0x30, max_codepoint=0x7A), min_size=1, max_size=20),
    noise=st.lists(st.tuples(st.integers(0, 20), st.sampled_from(INVISIBLE)), max_size=4),
    wide=st.booleans(),
)
def test_invisible_characters_and_fullwidth_forms_never_change_a_pseudonym(
    kind: Kind, value: str, noise: list[tuple[int, str]], wide: bool
) -> None:
    typed = _fullwidth(value) if wide else value
    for at, char in sorted(noise, reverse=True):
        typed = typed[:at] + char + typed[at:]
    assert pseudonym(KEY, kind, typed) == pseudonym(KEY, kind, value)


def test_a_phone_typed_in_fullwidth_digits_with_a_zero_width_space_is_the_same_person() -> None:
    assert pseudonym(KEY, "phone", "０８１２\u200b３４５６７８９０") == pseudonym(KEY, "phone", "081234567890")
    assert looks_like_phone("０８１２\u200b３４５６７８９０")
