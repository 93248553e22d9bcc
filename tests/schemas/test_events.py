"""Validation of the input events: each bad field is named, with its reason."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from schemas import Tip, event_adapter, region_table, severity_for_score


def _tip(**overrides: object) -> dict[str, object]:
    return {
        "event_id": str(uuid.uuid4()),
        "occurred_at": datetime.now(UTC).isoformat(),
        "desa_code": "36.04.13.2007",
        "category": "other",
        "persons_involved": 1,
        "minors_involved": False,
        **overrides,
    }


def _fields(exc: pytest.ExceptionInfo[ValidationError]) -> dict[str, str]:
    return {".".join(map(str, e["loc"])): e["msg"] for e in exc.value.errors()}


def test_region_table_holds_every_village_and_names_lontar() -> None:
    table = region_table()
    assert len(table.villages) == 83_763
    lontar = table.village("36.04.13.2007")
    assert (lontar.desa_name, lontar.kecamatan, lontar.kabupaten, lontar.provinsi) == (
        "Lontar",
        "Tirtayasa",
        "KABUPATEN SERANG",
        "BANTEN",
    )


def test_unknown_village_code_is_named() -> None:
    with pytest.raises(ValidationError) as exc:
        Tip.model_validate(_tip(desa_code="36.04.13.9999"))
    assert "36.04.13.9999" in _fields(exc)["desa_code"]


def test_future_timestamp_beyond_five_minutes_is_refused_and_within_is_taken() -> None:
    with pytest.raises(ValidationError) as exc:
        Tip.model_validate(_tip(occurred_at=(datetime.now(UTC) + timedelta(minutes=6)).isoformat()))
    assert "ahead of the server clock" in _fields(exc)["occurred_at"]
    Tip.model_validate(_tip(occurred_at=(datetime.now(UTC) + timedelta(minutes=4)).isoformat()))


def test_timestamp_without_offset_is_refused() -> None:
    with pytest.raises(ValidationError) as exc:
        Tip.model_validate(_tip(occurred_at="2026-01-01T10:00:00"))
    assert "occurred_at" in _fields(exc)


def test_unknown_fields_are_refused_so_nothing_unscrubbed_reaches_a_topic() -> None:
    with pytest.raises(ValidationError) as exc:
        Tip.model_validate(_tip(reporter_nik="3201010101080001"))
    assert "reporter_nik" in _fields(exc)


def test_discriminated_union_names_the_field_under_its_type() -> None:
    with pytest.raises(ValidationError) as exc:
        event_adapter.validate_python({**_tip(), "type": "recruiter_sighting"})
    fields = _fields(exc)
    assert "recruiter_sighting.recruiter" in fields and "recruiter_sighting.category" in fields


@pytest.mark.parametrize(
    ("score", "severity"),
    [
        (0, "LOW"),
        (39, "LOW"),
        (40, "MEDIUM"),
        (59, "MEDIUM"),
        (60, "HIGH"),
        (79, "HIGH"),
        (80, "CRITICAL"),
        (100, "CRITICAL"),
    ],
)
def test_severity_bands(score: int, severity: str) -> None:
    assert severity_for_score(score).value == severity


def test_one_event_type_list_behind_the_enum_the_alias_the_models_and_the_topics() -> None:
    from typing import get_args

    from schemas.events import ADAPTERS, MODELS, EventType, EventTypeName
    from schemas.topics import Topics

    names = [t.value for t in EventType]
    assert list(get_args(EventTypeName)) == names == list(MODELS) == list(ADAPTERS) == list(Topics.BY_EVENT_TYPE)
    assert all(model.model_fields["type"].default == name for name, model in MODELS.items())
