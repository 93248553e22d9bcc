"""services/ingest/core/validation.py: a 422 names the field, and the value only where that is safe."""

from typing import Any

import pytest
from pydantic import ValidationError

from schemas.events import ADAPTERS
from services.ingest.core.validation import echoable, field_errors
from tests.factories import departure


def _errors(kind: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    with pytest.raises(ValidationError) as caught:
        ADAPTERS[kind].validate_python(body)
    return field_errors(caught.value)


def test_unknown_village_is_named_with_its_code() -> None:
    (error,) = _errors("departure_anomaly", departure(desa_code="11.01.01.9999"))
    assert error["loc"] == ["body", "desa_code"] and error["input"] == "11.01.01.9999"


def test_personal_free_text_and_unknown_fields_are_never_echoed() -> None:
    errors = _errors(
        "departure_anomaly",
        departure(traveller="N" * 70, description="x" * 4001, nik="3201234567890001", sex="Q"),
    )
    by_field = {e["loc"][1]: e for e in errors}
    assert set(by_field) == {"traveller", "description", "nik", "sex"}
    assert all("input" not in by_field[f] for f in ("traveller", "description", "nik"))
    assert by_field["sex"]["input"] == "Q"


@pytest.mark.parametrize(
    ("loc", "value", "ok"),
    [
        (("age",), 17, True),
        (("recruiter",), "Bang Joni", False),
        ((), {"a": 1}, False),
        (("desa_code",), "9" * 65, False),
        (("indicators", 0), "teleport", True),
    ],
)
def test_echo_rule(loc: tuple[str | int, ...], value: object, ok: bool) -> None:
    assert echoable(loc, value) is ok
