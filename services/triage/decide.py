"""One triage step, pure: (village state, event, arrival) → (new state, outcome, what to publish).

The Faust agent is a thin shell around ``decide``; everything here runs without a broker.
Outcomes: ``duplicate`` (same event_id seen: counted once), ``merged`` (near-duplicate folded into
the incident, not an independent signal), ``recorded`` (new signal, severity unchanged),
``escalated`` (severity rose: publish a revision). An incident that its offices resolved is closed
by ``lifecycle.close``: the village's next event opens a new one here.
"""

from dataclasses import dataclass

from schemas.escalation import Escalation
from schemas.events import InputEvent
from services.triage.correlate import correlations
from services.triage.dedup import comparable_text, near_duplicates, person_of
from services.triage.incidents import Arrival, Contribution, escalation, fold, open_incident
from services.triage.policy import Policy
from services.triage.rules import Assessment, assess
from services.triage.state import Seen, VillageState, epoch, short


@dataclass(frozen=True, slots=True)
class Decision:
    outcome: str
    state: VillageState | None
    """The state to write back; None when nothing changed (a duplicate)."""
    escalation: Escalation | None = None
    body: bytes | None = None
    """The revision's exact bytes, as stored in the state."""
    replay: bytes | None = None
    """A revision to send again unchanged: its triggering record was read again after a crash."""
    assessment: Assessment | None = None


def decide(policy: Policy, state: VillageState, event: InputEvent, arrival: Arrival) -> Decision:
    """Deduplicate, score and fold ``event`` into its village's incident."""
    event_id = str(event.event_id)
    if event_id in state.ids():
        # the same record read again after a crash (not a copy via another path): send its revision again
        body = state.incident.published_by(event_id, arrival.position) if state.incident else None
        return Decision("duplicate", None, replay=body.encode() if body else None)
    at = epoch(event.occurred_at)
    state.high_water = max(state.high_water, at)
    assessment = assess(policy, event)
    seen = _remember(policy, state, event, at, arrival)
    state.prune(policy)
    if state.incident is None or at - state.incident.last_seen > policy.windows.incident_idle:
        state.incident = open_incident(event.desa_code, event_id, at)
    incident = state.incident
    found = correlations(policy, state.seen, at) if seen.signal else []
    if not fold(incident, Contribution.of(event, assessment, arrival), found):
        return Decision("recorded" if seen.signal else "merged", state, assessment=assessment)
    revision = escalation(incident, event.desa_code, policy, arrival)
    body = revision.model_dump_json()
    # only the latest revision is kept: a village's next event waits for this one's acknowledgement (publishing.py)
    incident.published = [[event_id, arrival.position, body]]
    return Decision("escalated", state, escalation=revision, body=body.encode(), assessment=assessment)


def _remember(policy: Policy, state: VillageState, event: InputEvent, at: float, arrival: Arrival) -> Seen:
    text = comparable_text(event)
    person = short(person_of(event))
    event_id = str(event.event_id)
    window = policy.windows.near_duplicate
    merged = any(
        entry.text is not None  # most entries are past the near-duplicate window: their text is dropped
        and entry.kind == event.type
        and entry.person == person
        and abs(entry.at - at) <= window
        and near_duplicates(entry.text, text, policy.near_duplicate.min_similarity)
        for entry in state.seen
    )
    reporter = short(event.reporter) if isinstance(event.reporter, str) else None
    seen = Seen(event_id, at, event.type, person, arrival.channel, reporter, text, not merged)
    state.remember(seen)
    return seen
