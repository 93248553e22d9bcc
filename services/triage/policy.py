"""The declarative triage policy (config/policy.yaml): rules, caps, windows, thresholds.

Validated once at start with pydantic, so a typo in a rule stops the worker with one line that
names the file and the field (services.common.config_files) instead of silently scoring wrong.
Everything that can be checked at load is checked here: field names against the event models,
regular expressions, detail placeholders (only non-personal fields may appear in a detail), that a
detail holds no control character (the Escalation would refuse it at publish time), and that every
rule's dimension has a cap.
"""

import hashlib
import json
import operator
import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from schemas.escalation import PlainText, Severity
from schemas.events import MODELS, EventTypeName
from services.common.config_files import load_config_or_exit
from services.triage.patterns import Pattern, PatternSet, compile_pattern

EventKind = EventTypeName
Category = Literal["TPPO", "TPPM", "PMI_NP", "HAJI_NP"]
Level = Literal["hard", "strong", "medium", "weak", "mitigating"]
CATEGORY_ORDER: tuple[Category, ...] = ("TPPO", "TPPM", "PMI_NP", "HAJI_NP")
CONTRACT_THRESHOLDS = {"MEDIUM": 40, "HIGH": 60, "CRITICAL": 80}

PERSONAL_FIELDS = frozenset({"reporter", "traveller", "recruiter", "description", "event_id", "promised_job"})
"""Fields a rule may test but never quote in a detail (DOMAIN.md §3.3)."""

_DURATION = re.compile(r"^(\d+)\s*(s|m|h|d)$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _seconds(value: Any) -> Any:
    """``30m``, ``4h``, ``30d`` → seconds; an int passes through."""
    if isinstance(value, str):
        match = _DURATION.match(value.strip())
        if not match:
            raise ValueError(f"{value!r} is not a duration like 90s, 30m, 4h or 30d")
        return int(match.group(1)) * _UNITS[match.group(2)]
    return value


Duration = Annotated[int, BeforeValidator(_seconds), Field(gt=0)]


Test = Callable[[Any], bool]


def _compile(c: "Condition") -> Test:
    """The condition as one closure over its operand: scoring runs for every event, so no per-event dispatch."""
    op = c.operator
    if op in ("eq", "ne", "in_", "not_in"):
        operand = getattr(c, op)
        return {
            "eq": lambda v: v == operand,
            "ne": lambda v: v != operand,
            "in_": lambda v: v in operand,
            "not_in": lambda v: v not in operand,
        }[op]
    if op in ("lt", "le", "gt", "ge"):
        compare = getattr(operator, op)
        limit = getattr(c, op)
        return lambda v: v is not None and not isinstance(v, bool) and bool(compare(v, limit))
    if op == "has":
        return lambda v: v is not None and c.has in v
    if op in ("has_all", "has_any", "has_none"):
        items = tuple(getattr(c, op))
        if op == "has_all":
            return lambda v: v is not None and all(x in v for x in items)
        if op == "has_any":
            return lambda v: v is not None and any(x in v for x in items)
        return lambda v: v is None or not any(x in v for x in items)
    if op == "matches":
        pattern = c.pattern
        return lambda v: isinstance(v, str) and pattern.search(v) is not None
    if op == "is_null":
        return lambda v: (v is None) == c.is_null
    ranges = c.between_dates or []
    return lambda v: _on_dates(v, ranges)


def _on_dates(value: Any, ranges: list[tuple[date, date]]) -> bool:
    if not isinstance(value, datetime) or not ranges:
        return False
    day = value.date()
    return any(start <= day <= end for start, end in ranges)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Condition(_Strict):
    """One test on one event field; exactly one operator is given."""

    field: str
    eq: Any = None
    ne: Any = None
    in_: list[Any] | None = Field(default=None, alias="in")
    not_in: list[Any] | None = None
    lt: float | None = None
    le: float | None = None
    gt: float | None = None
    ge: float | None = None
    has: str | None = None
    has_all: list[str] | None = None
    has_any: list[str] | None = None
    has_none: list[str] | None = None
    matches: str | None = None
    is_null: bool | None = None
    between_dates: list[tuple[date, date]] | None = None

    @model_validator(mode="after")
    def _one_operator(self) -> "Condition":
        given = [name for name in self.operators() if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(f"condition on {self.field!r} needs exactly one operator, got {given or 'none'}")
        if self.matches is not None:
            try:
                compile_pattern(self.matches)
            except ValueError as exc:
                raise ValueError(f"matches: {exc}") from None
        return self

    @staticmethod
    def operators() -> tuple[str, ...]:
        return (
            "eq", "ne", "in_", "not_in", "lt", "le", "gt", "ge", "has", "has_all", "has_any", "has_none",
            "matches", "is_null", "between_dates",
        )  # fmt: skip

    @cached_property
    def operator(self) -> str:
        return next(name for name in self.operators() if getattr(self, name) is not None)

    @cached_property
    def pattern(self) -> Pattern:
        return compile_pattern(self.matches or "")

    @cached_property
    def test(self) -> Test:
        """The compiled test of one field value (a missing value meets only ``is_null: true``)."""
        return _compile(self)


class Rule(_Strict):
    """A per-event indicator of DOMAIN.md §1.6: when all conditions hold, it adds ``weight``."""

    id: str = Field(pattern=r"^[A-Z][A-Za-z0-9_.-]{0,31}$")
    level: Level
    events: list[EventKind] = Field(min_length=1)
    when: list[Condition] = Field(min_length=1)
    weight: int = Field(ge=-100, le=100)
    dimension: str
    categories: list[Category] = Field(default_factory=list)
    floor: Literal["MEDIUM", "HIGH", "CRITICAL"] | None = None
    detail: PlainText = Field(min_length=1, max_length=300)
    source: str = Field(min_length=3)

    @cached_property
    def tests(self) -> tuple[tuple[str, str | None, Test], ...]:
        """``(field, pattern, test)`` of every condition, compiled once; ``pattern`` is set for ``matches``
        (its hits come from the policy's ``PatternSet`` of that field, found once per event)."""
        return tuple((c.field, c.matches, c.test) for c in self.when)

    @field_validator("events", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @model_validator(mode="after")
    def _consistent(self) -> "Rule":
        if (self.level == "mitigating") != (self.weight < 0):
            raise ValueError("mitigating rules, and only they, have a negative weight")
        if self.floor and self.level != "hard":
            raise ValueError("only hard triggers set a severity floor")
        for kind in self.events:
            fields = MODELS[kind].model_fields
            for condition in self.when:
                if condition.field not in fields:
                    raise ValueError(f"{kind} has no field {condition.field!r}")
        for name in re.findall(r"{(\w*)}", self.detail):
            if name in PERSONAL_FIELDS or not all(name in MODELS[k].model_fields for k in self.events):
                raise ValueError(f"detail may not quote {{{name}}}: only non-personal fields of every event type")
        return self


class CoOccurrence(_Strict):
    """Cross-signal rule: at least ``requires[type]`` independent events of each type within ``within``."""

    kind: Literal["co_occurrence"]
    id: PlainText
    requires: dict[EventKind, int]
    distinct_persons: bool = True
    within: Duration
    weight: int = Field(ge=0, le=100)
    floor: Literal["MEDIUM", "HIGH", "CRITICAL"] | None = None
    categories: list[Category] = Field(default_factory=list)
    detail: PlainText
    source: str


class Corroboration(_Strict):
    """X1: the same recruiter pseudonym reported through independent channels."""

    kind: Literal["corroboration"]
    id: PlainText
    within: Duration
    weight_per_extra_channel: int = Field(ge=0, le=100)
    cap: int = Field(ge=0, le=100)
    categories: list[Category] = Field(default_factory=list)
    detail: PlainText
    source: str


class Windows(_Strict):
    near_duplicate: Duration = 86400
    incident_idle: Duration = 30 * 86400
    dedup_memory: Duration = 30 * 86400


class NearDuplicate(_Strict):
    """rapidfuzz token_sort_ratio on normalised text; see services.triage.dedup for why."""

    min_similarity: float = Field(default=85, ge=50, le=100)
    max_texts_per_village: int = Field(default=50, ge=1, le=1000)


class Policy(_Strict):
    """The whole file."""

    version: Literal[2]
    severity_thresholds: dict[Literal["MEDIUM", "HIGH", "CRITICAL"], int]
    acknowledgement: dict[Literal["HIGH", "CRITICAL"], Duration]
    windows: Windows = Windows()
    near_duplicate: NearDuplicate = NearDuplicate()
    recent_events_per_village: int = Field(default=200, ge=10, le=5000)
    caps: dict[str, int]
    rules: list[Rule] = Field(min_length=1)
    correlations: list[Annotated[CoOccurrence | Corroboration, Field(discriminator="kind")]] = Field(
        default_factory=list
    )

    @field_validator("severity_thresholds")
    @classmethod
    def _contract_bands(cls, value: dict[str, int]) -> dict[str, int]:
        if value != CONTRACT_THRESHOLDS:
            raise ValueError(f"must be {CONTRACT_THRESHOLDS} (CONTRACT §5: LOW < 40 ≤ MEDIUM < 60 ≤ HIGH < 80)")
        return value

    @model_validator(mode="after")
    def _references(self) -> "Policy":
        ids = [rule.id for rule in self.rules] + [c.id for c in self.correlations]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"rule ids must be unique: {duplicates}")
        for rule in self.rules:
            if rule.dimension not in self.caps:
                raise ValueError(f"rule {rule.id}: dimension {rule.dimension!r} has no entry under caps")
        return self

    def rules_for(self, kind: str) -> list[Rule]:
        """The rules of one event type, cheap conditions first is the author's job (policy order kept)."""
        return self.by_kind.get(kind, [])

    def pattern_hits(self, event: Any) -> set[tuple[str, str]]:
        """``(field, pattern)`` of every ``matches`` condition that holds for ``event``."""
        hits: set[tuple[str, str]] = set()
        for name, patterns in self.pattern_sets.items():
            value = getattr(event, name, None)
            if isinstance(value, str):
                hits.update((name, pattern) for pattern in patterns.matching(value))
        return hits

    @cached_property
    def fingerprint(self) -> str:
        """``policy_version``: SHA-256 of the canonical policy (validated, keys sorted, compact JSON), so
        comments, key order and spellings of a duration (``30d`` or ``2592000``) do not change it."""
        body = self.model_dump(mode="json", by_alias=True)
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()

    @cached_property
    def pattern_sets(self) -> dict[str, PatternSet]:
        by_field: dict[str, list[str]] = {}
        for rule in self.rules:
            for c in rule.when:
                if c.matches is not None:
                    by_field.setdefault(c.field, []).append(c.matches)
        return {name: PatternSet(patterns) for name, patterns in by_field.items()}

    @cached_property
    def by_kind(self) -> dict[str, list[Rule]]:
        return {kind: [rule for rule in self.rules if kind in rule.events] for kind in MODELS}

    def ack_within_s(self, severity: Severity) -> int | None:
        """The acknowledgement time of a severity (None for LOW and MEDIUM)."""
        return self.acknowledgement.get(severity.value)  # type: ignore[call-overload, no-any-return]

    def floor_score(self, floor: str | None) -> int:
        return self.severity_thresholds[floor] if floor else 0  # type: ignore[index]


def window(seconds: int) -> timedelta:
    return timedelta(seconds=seconds)


def load_policy(path: Path) -> Policy:
    """The policy at ``path``, or exit with one line naming the file and field."""
    return load_config_or_exit(path, Policy)
