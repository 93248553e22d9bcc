"""Cross-signal rules over a village's recent independent events (DOMAIN.md §1.6 X1, X2).

Merged near-duplicates are not signals: the same departure reported twice is one departure.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

from schemas.escalation import Reason
from services.triage.policy import CoOccurrence, Corroboration, Policy
from services.triage.state import Seen


@dataclass(frozen=True, slots=True)
class Correlated:
    """A cross-signal rule that holds: its reason, severity floor and categories."""

    reason: Reason
    floor: int = 0
    categories: tuple[str, ...] = field(default_factory=tuple)


def correlations(policy: Policy, seen: Iterable[Seen], at: float) -> list[Correlated]:
    """Every cross-signal rule that holds around time ``at`` (seconds since the epoch)."""
    signals = [entry for entry in seen if entry.signal]
    found: list[Correlated] = []
    for rule in policy.correlations:
        near = [entry for entry in signals if abs(entry.at - at) <= rule.within]
        result = _co_occurrence(policy, rule, near) if isinstance(rule, CoOccurrence) else _corroboration(rule, near)
        if result is not None:
            found.append(result)
    return found


def _count(entries: list[Seen], kind: str, distinct_persons: bool) -> int:
    of_kind = [entry for entry in entries if entry.kind == kind]
    if not distinct_persons:
        return len(of_kind)
    anonymous = sum(1 for entry in of_kind if entry.person is None)
    return anonymous + len({entry.person for entry in of_kind if entry.person is not None})


def _co_occurrence(policy: Policy, rule: CoOccurrence, entries: list[Seen]) -> Correlated | None:
    counts: dict[str, int] = {kind: _count(entries, kind, rule.distinct_persons) for kind in rule.requires}
    if any(counts[kind] < needed for kind, needed in rule.requires.items()):
        return None
    detail = rule.detail.format_map({"tip": 0, "departure_anomaly": 0, "recruiter_sighting": 0, **counts})
    return Correlated(
        reason=Reason(rule=rule.id, weight=rule.weight, detail=detail),
        floor=policy.floor_score(rule.floor),
        categories=tuple(rule.categories),
    )


def independent_channels(entries: list[Seen]) -> int:
    """Distinct channels, counting a reporter once: several tips of one reporter do not corroborate."""
    channels: set[str | None] = set()
    reporters: set[str] = set()
    for entry in entries:
        if entry.reporter is not None and entry.reporter in reporters:
            continue
        if entry.reporter is not None:
            reporters.add(entry.reporter)
        channels.add(entry.channel)
    return len(channels)


def _corroboration(rule: Corroboration, entries: list[Seen]) -> Correlated | None:
    by_recruiter: dict[str, list[Seen]] = {}
    for entry in entries:
        if entry.kind == "recruiter_sighting" and entry.person is not None:
            by_recruiter.setdefault(entry.person, []).append(entry)
    best = max((independent_channels(group) for group in by_recruiter.values()), default=0)
    weight = min(rule.cap, (best - 1) * rule.weight_per_extra_channel)
    if weight <= 0:
        return None
    detail = rule.detail.format_map({"channels": best})
    return Correlated(reason=Reason(rule=rule.id, weight=weight, detail=detail), categories=tuple(rule.categories))
