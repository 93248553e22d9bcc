"""Validation errors safe to send back (the answers themselves: ``core/errors.py``).

A 422 names the field and, where it is safe, the value that failed (an unknown village code is
named). A value is never echoed for a personal identifier (reporter, traveller, recruiter), for
free text, or for a field we do not know: the same rule keeps them out of the logs.
"""

from typing import Any

from pydantic import ValidationError

ECHOABLE_FIELDS = frozenset(
    {
        "type",
        "event_id",
        "occurred_at",
        "desa_code",
        "category",
        "persons_involved",
        "minors_involved",
        "destination_country",
        "checkpoint",
        "age",
        "sex",
        "declared_purpose",
        "indicators",
        "action",
        "activity",
        "persons_approached",
        "promised_destination",
        "licensed_agency",
    }
)
"""Fields whose rejected value may be sent back: none of them identifies a person."""
MAX_ECHO = 64


def echoable(loc: tuple[int | str, ...], value: Any) -> bool:
    """True when ``value`` (the input at ``loc``) may appear in an answer or a log."""
    if not loc or loc[0] not in ECHOABLE_FIELDS:
        return False
    if isinstance(value, str):
        return len(value) <= MAX_ECHO
    return value is None or isinstance(value, bool | int | float)


def field_errors(exc: ValidationError, prefix: tuple[int | str, ...] = ("body",)) -> list[dict[str, Any]]:
    """FastAPI's ``detail`` shape: each error names its field (under ``prefix``) and, if safe, the value."""
    errors = []
    for error in exc.errors(include_url=False, include_context=False):
        item: dict[str, Any] = {"type": error["type"], "loc": [*prefix, *error["loc"]], "msg": error["msg"]}
        if echoable(error["loc"], error.get("input")):
            item["input"] = error["input"]
        errors.append(item)
    return errors


def error(kind: str, loc: tuple[int | str, ...], msg: str, value: Any = None) -> dict[str, Any]:
    """One error of our own in the same shape (forbidden type or region, unknown event type, …)."""
    item: dict[str, Any] = {"type": kind, "loc": list(loc), "msg": msg}
    if value is not None and echoable(loc[-1:] if loc else (), value):
        item["input"] = value
    return item
