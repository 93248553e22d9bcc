"""The Escalation refuses control characters in its strings: they end up in e-mail headers and pages."""

from typing import Any

import pytest
from pydantic import ValidationError

from schemas.escalation import Escalation
from tests.notify.conftest import escalation

CONTROLS = ["\r\n", "\n", "\r", "\t", "\x00", "\x1b", "\x7f", "\x85", "\x9b", "\u2028", "\u2029"]
PLACES: list[tuple[str, ...]] = [
    ("escalation_id",),
    ("incident_id",),
    ("desa_code",),
    ("desa_name",),
    ("kecamatan",),
    ("kabupaten",),
    ("provinsi",),
    ("categories", "0"),
    ("reasons", "0", "rule"),
    ("reasons", "0", "detail"),
]


def _with(body: dict[str, Any], place: tuple[str, ...], text: str) -> dict[str, Any]:
    """``body`` with ``text`` spliced into the middle of the string at ``place``."""
    if len(place) == 1:
        return {**body, place[0]: body[place[0]][:3] + text + body[place[0]][3:]}
    if place[0] == "categories":
        return {**body, "categories": ["TP" + text + "PO"]}
    reason = dict(body["reasons"][0])
    reason[place[2]] = reason[place[2]][:3] + text + reason[place[2]][3:]
    return {**body, "reasons": [reason]}


@pytest.mark.parametrize("place", PLACES, ids=".".join)
@pytest.mark.parametrize("char", CONTROLS, ids=repr)
def test_a_control_character_anywhere_is_refused_and_named(place: tuple[str, ...], char: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Escalation.model_validate(_with(escalation(), place, char))
    assert [tuple(e["loc"]) for e in refused.value.errors()] == [tuple(int(p) if p.isdigit() else p for p in place)]


def test_a_control_character_in_an_event_type_is_refused() -> None:
    with pytest.raises(ValidationError):
        Escalation.model_validate(escalation(event_types={"tip\r\nBcc: x@y": 1}))


def test_names_with_letters_of_any_script_punctuation_and_spaces_pass() -> None:
    body = escalation(desa_name="Sukamaju (Ds.) – Ñ’é", kecamatan="Kec. Tirtayasa / 2", kabupaten="KOTA  BOGOR")
    assert Escalation.model_validate(body).desa_name == "Sukamaju (Ds.) – Ñ’é"
