"""Scoring one event against the policy: which rules hold, their reasons, the capped total.

Pure functions, no Faust: the unit tests exercise every rule of the shipped policy here.
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from schemas.escalation import Reason
from schemas.events import InputEvent
from services.triage.policy import CATEGORY_ORDER, Condition, Policy, Rule


@dataclass(frozen=True, slots=True)
class Assessment:
    """An event's score with the reasons that make it up and the categories it points to."""

    score: int
    reasons: tuple[Reason, ...] = ()
    categories: dict[str, int] = field(default_factory=dict)
    floor: int = 0


def holds(condition: Condition, event: InputEvent) -> bool:
    """True when ``event`` meets ``condition`` (a missing value meets only ``is_null: true``)."""
    return bool(_TESTS[condition.operator](condition, getattr(event, condition.field, None)))


def _compare(value: Any, limit: float | None, op: str) -> bool:
    if value is None or limit is None or isinstance(value, bool):
        return False
    return bool({"lt": value < limit, "le": value <= limit, "gt": value > limit, "ge": value >= limit}[op])


def _between(value: Any, ranges: list[tuple[date, date]] | None) -> bool:
    if not isinstance(value, datetime) or not ranges:
        return False
    day = value.date()
    return any(start <= day <= end for start, end in ranges)


_TESTS: dict[str, Any] = {
    "eq": lambda c, v: v == c.eq,
    "ne": lambda c, v: v != c.ne,
    "in_": lambda c, v: v in c.in_,
    "not_in": lambda c, v: v not in c.not_in,
    "lt": lambda c, v: _compare(v, c.lt, "lt"),
    "le": lambda c, v: _compare(v, c.le, "le"),
    "gt": lambda c, v: _compare(v, c.gt, "gt"),
    "ge": lambda c, v: _compare(v, c.ge, "ge"),
    "has": lambda c, v: v is not None and c.has in v,
    "has_all": lambda c, v: v is not None and all(x in v for x in c.has_all),
    "has_any": lambda c, v: v is not None and any(x in v for x in c.has_any),
    "has_none": lambda c, v: v is None or not any(x in v for x in c.has_none),
    "matches": lambda c, v: isinstance(v, str) and c.pattern.search(v) is not None,
    "is_null": lambda c, v: (v is None) == c.is_null,
    "between_dates": lambda c, v: _between(v, c.between_dates),
}


def fired(policy: Policy, event: InputEvent) -> list[Rule]:
    """The rules of ``event``'s type whose every condition holds, in policy order."""
    return [rule for rule in policy.rules_for(event.type) if all(holds(c, event) for c in rule.when)]


def detail(rule: Rule, event: InputEvent) -> str:
    """The rule's detail with its placeholders filled from the event (validated non-personal)."""
    text = rule.detail.format_map(_Fields(event))
    return f"{text} (pemicu wajib: minimal {rule.floor})" if rule.floor else text


WORDS = {
    "tourism": "wisata",
    "umrah": "umrah",
    "hajj": "haji",
    "visit": "kunjungan",
    "business": "bisnis",
    "work": "kerja",
    "study": "studi",
    "other": "lainnya",
    "recruitment_offer": "tawaran kerja",
    "suspicious_departure": "keberangkatan mencurigakan",
    "suspected_victim": "dugaan korban",
    "document_fraud": "pemalsuan dokumen",
    "online_scam_job": "lowongan kerja online",
}
"""Event enum values in the words an officer reads."""


class _Fields(dict[str, str]):
    def __init__(self, event: InputEvent) -> None:
        super().__init__()
        self.event = event

    def __missing__(self, key: str) -> str:
        value = getattr(self.event, key, None)
        return "-" if value is None else WORDS.get(str(value), str(value))


def assess(policy: Policy, event: InputEvent) -> Assessment:
    """Score ``event``: per-dimension capped sum, mitigation capped, clamp 0–100, hard floor."""
    rules = fired(policy, event)
    if not rules:
        return Assessment(score=0)
    by_dimension: dict[str, int] = {}
    reasons: list[Reason] = []
    categories: dict[str, int] = {}
    for rule in rules:
        already = by_dimension.get(rule.dimension, 0)
        cap = policy.caps[rule.dimension]
        room = cap - abs(already)
        weight = max(-room, min(room, rule.weight)) if room > 0 else 0
        if weight == 0:
            continue  # the dimension is full: this fact was already counted
        by_dimension[rule.dimension] = already + weight
        reasons.append(Reason(rule=rule.id, weight=weight, detail=detail(rule, event)))
        for category in rule.categories:
            categories[category] = categories.get(category, 0) + max(weight, 0)
    floor = max((policy.floor_score(rule.floor) for rule in rules), default=0)
    total = max(0, min(100, sum(by_dimension.values())))
    return Assessment(score=max(total, floor), reasons=tuple(reasons), categories=categories, floor=floor)


def ordered_categories(weights: dict[str, int]) -> list[str]:
    """The category vector as a list: heaviest first, ties in the fixed TPPO, TPPM, PMI_NP, HAJI_NP order."""
    present = [c for c in CATEGORY_ORDER if weights.get(c, 0) > 0]
    return sorted(present, key=lambda c: -weights[c])
