"""What triage remembers per village, stored as one JSON value per village in a Faust table.

One table value per village (events of one village meet in one partition: topics are keyed by
``desa_code``), written once per event and re-assigned every time (FIELD-NOTES: a value mutated
in place without re-assignment is lost on recovery). The state is bounded: entries older than the
policy's ``dedup_memory`` are dropped, texts older than the near-duplicate window are dropped,
and at most ``recent_events_per_village`` entries are kept.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from schemas.escalation import Reason, Severity
from services.triage.policy import Policy


def short(pseudonym: str | None) -> str | None:
    """64 bits of a ``psn_`` pseudonym: plenty to tell people apart within one village, and a smaller state."""
    return pseudonym[-16:] if pseudonym else None


def epoch(moment: datetime) -> float:
    return moment.timestamp()


def from_epoch(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


@dataclass(slots=True)
class Seen:
    """One event remembered: for exact dedup, near-dup comparison and correlation windows."""

    event_id: str
    at: float
    kind: str
    person: str | None
    channel: str | None
    reporter: str | None
    text: str | None
    signal: bool
    """False for a merged near-duplicate: it counts in the incident, not as an independent signal."""

    def dump(self) -> list[Any]:
        return [self.event_id, self.at, self.kind, self.person, self.channel, self.reporter, self.text, self.signal]

    @classmethod
    def load(cls, raw: list[Any]) -> "Seen":
        return cls(*raw)


@dataclass(slots=True)
class Incident:
    """The related events of one village and what has been escalated of them."""

    incident_id: str
    opened_by: str
    first_seen: float
    last_seen: float
    revision: int = 0
    score: int = 0
    severity: str = Severity.LOW.value
    reasons: list[list[Any]] = field(default_factory=list)
    categories: dict[str, int] = field(default_factory=dict)
    event_count: int = 0
    event_types: dict[str, int] = field(default_factory=dict)
    first_received_at: float | None = None
    base_score: int = 0
    base_floor: int = 0
    base_reasons: list[list[Any]] = field(default_factory=list)
    tail: list[list[Any]] = field(default_factory=list)
    """The latest events' contributions (``incidents.Contribution``), newest last, at most ``TAIL_MAX``."""
    published: list[list[str | None]] = field(default_factory=list)
    """``[event_id, record position, JSON]`` of the latest revision, re-sent byte for byte when its
    triggering record is read again after a crash (earlier revisions were acknowledged already)."""

    def published_by(self, event_id: str, position: str | None) -> str | None:
        for trigger, at, body in self.published:
            if trigger == event_id and at == position:
                return body
        return None

    def reason_models(self) -> list[Reason]:
        return [Reason(rule=r[0], weight=r[1], detail=r[2]) for r in self.reasons]


@dataclass(slots=True)
class VillageState:
    """Everything triage keeps for one village."""

    high_water: float = 0.0
    seen: list[Seen] = field(default_factory=list)
    incident: Incident | None = None
    resolved: list[str] = field(default_factory=list)
    """Ids of this village's latest incidents that offices resolved (a resolution read twice is a no-op)."""
    _ids: set[str] | None = field(default=None, repr=False, compare=False)
    """The event ids of ``seen``, kept while the live state is (not stored: rebuilt on load)."""

    def latest_revision(self) -> bytes | None:
        """The JSON of the last revision published for this village, if any."""
        if self.incident is None or not self.incident.published:
            return None
        body = self.incident.published[-1][2]
        return body.encode() if body else None

    def ids(self) -> set[str]:
        if self._ids is None:
            self._ids = {entry.event_id for entry in self.seen}
        return self._ids

    def remember(self, entry: Seen) -> None:
        self.seen = [*self.seen, entry]
        self.ids().add(entry.event_id)

    def prune(self, policy: Policy) -> None:
        """Bound the state: forget old entries, drop old texts, cap the count."""
        windows = policy.windows
        horizon = self.high_water - windows.dedup_memory
        text_horizon = self.high_water - windows.near_duplicate
        kept = [entry for entry in self.seen if entry.at >= horizon]
        kept = kept[-policy.recent_events_per_village :]
        if len(kept) != len(self.seen):
            self._ids = None
        with_text = 0
        for entry in reversed(kept):
            if entry.text is None:
                continue
            with_text += 1
            if entry.at < text_horizon or with_text > policy.near_duplicate.max_texts_per_village:
                entry.text = None
        self.seen = kept

    def dump(self) -> bytes:
        incident = None
        if self.incident is not None:
            incident = {name: getattr(self.incident, name) for name in Incident.__slots__}
        body: dict[str, Any] = {"v": 1, "hw": self.high_water, "seen": [e.dump() for e in self.seen], "inc": incident}
        if self.resolved:
            body["res"] = self.resolved
        return orjson.dumps(body)

    @classmethod
    def load(cls, raw: bytes | None) -> "VillageState":
        if not raw:
            return cls()
        data = orjson.loads(raw)
        incident = Incident(**data["inc"]) if data.get("inc") else None
        seen = [Seen.load(e) for e in data["seen"]]
        return cls(high_water=data["hw"], seen=seen, incident=incident, resolved=data.get("res", []))
