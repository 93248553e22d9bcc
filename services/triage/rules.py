"""Scoring one event against the policy: which rules hold, their reasons, the capped total.

Pure functions, no Faust: the unit tests exercise every rule of the shipped policy here.
"""

from dataclasses import dataclass, field

from schemas.events import InputEvent
from services.triage.policy import CATEGORY_ORDER, Condition, Policy, Rule


class Scored:
    """One rule's part of an event's score. Built for every rule that fires of every event, while its
    detail is read only when the event becomes its incident's worst: so the detail is written then."""

    __slots__ = ("_detail", "_of", "rule", "weight")

    def __init__(self, rule: Rule, weight: int, event: InputEvent) -> None:
        self.rule = rule.id
        self.weight = weight
        self._of = (rule, event)
        self._detail: str | None = None

    @property
    def detail(self) -> str:
        if self._detail is None:
            self._detail = detail(*self._of)
        return self._detail


@dataclass(frozen=True, slots=True)
class Assessment:
    """An event's score with the reasons that make it up and the categories it points to."""

    score: int
    reasons: tuple[Scored, ...] = ()
    categories: dict[str, int] = field(default_factory=dict)
    floor: int = 0


def holds(condition: Condition, event: InputEvent) -> bool:
    """True when ``event`` meets ``condition`` (a missing value meets only ``is_null: true``)."""
    return condition.test(getattr(event, condition.field, None))


def fired(policy: Policy, event: InputEvent) -> list[Rule]:
    """The rules of ``event``'s type whose every condition holds, in policy order.

    Runs for every event: the ``matches`` patterns are found all at once per field (one RE2::Set
    pass), then each rule's compiled tests run in a plain loop that stops at the first miss.
    """
    hits = policy.pattern_hits(event)
    found: list[Rule] = []
    for rule in policy.rules_for(event.type):
        for name, pattern, test in rule.tests:
            if (name, pattern) not in hits if pattern is not None else not test(getattr(event, name, None)):
                break
        else:
            found.append(rule)
    return found


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
    reasons: list[Scored] = []
    categories: dict[str, int] = {}
    for rule in rules:
        already = by_dimension.get(rule.dimension, 0)
        cap = policy.caps[rule.dimension]
        room = cap - abs(already)
        weight = max(-room, min(room, rule.weight)) if room > 0 else 0
        if weight == 0:
            continue  # the dimension is full: this fact was already counted
        by_dimension[rule.dimension] = already + weight
        reasons.append(Scored(rule, weight, event))
        for category in rule.categories:
            categories[category] = categories.get(category, 0) + max(weight, 0)
    floor = max((policy.floor_score(rule.floor) for rule in rules), default=0)
    total = max(0, min(100, sum(by_dimension.values())))
    return Assessment(score=max(total, floor), reasons=tuple(reasons), categories=categories, floor=floor)


def ordered_categories(weights: dict[str, int]) -> list[str]:
    """The category vector as a list: heaviest first, ties in the fixed TPPO, TPPM, PMI_NP, HAJI_NP order."""
    present = [c for c in CATEGORY_ORDER if weights.get(c, 0) > 0]
    return sorted(present, key=lambda c: -weights[c])
