"""The end of an incident: an office resolved it, so triage closes it (CONTRACT §5).

A resolution reaches triage on ``waspada.outcomes.v1``, keyed by ``desa_code`` like the village's
events, so it is read by the worker that holds the village's state. From then on the village has
no open incident: its next event opens a new one (revision 1) that pages as any new one does.

The race: an office resolves at ``resolved_at``; an event the system took after that moment may
still reach triage before the resolution does (the resolution is in flight, or a restarted worker
reads the topics in another order). Such an event was folded into the incident the officers had
just closed. The rule: an event belongs to the resolved incident only if its record was taken at
or before ``resolved_at`` (the record's Kafka timestamp against the resolution's). When the
resolution arrives, the events of the incident's tail taken later are moved out into a new
incident, which is scored from their contributions as if they had arrived after the resolution
and pages (revision 1) when it reaches MEDIUM. A revision that such a late event raised on the old
incident before the resolution arrived was delivered as usual; the officers may so hear of the
late event twice, never not at all.
"""

from schemas.escalation import Severity
from schemas.outcomes import Resolution
from services.triage.correlate import correlations
from services.triage.decide import Decision
from services.triage.incidents import Arrival, Contribution, escalation, fold, open_incident
from services.triage.policy import Policy
from services.triage.state import Incident, VillageState, epoch

RESOLVED_KEPT = 8
"""Resolved incident ids remembered per village: a resolution read again is recognised as such."""


def trigger_of(resolution: Resolution) -> str:
    """What the carried-over revision records as its trigger (a replayed resolution re-sends it)."""
    return f"resolution:{resolution.incident_id}"


def close(policy: Policy, state: VillageState, resolution: Resolution, arrival: Arrival) -> Decision:
    """Close the resolved incident; move the events taken after the resolution into a new one."""
    incident = state.incident
    if incident is None or incident.incident_id != resolution.incident_id:
        return _not_current(state, resolution, arrival)
    late = _late(incident, epoch(resolution.resolved_at))
    state.resolved = [*state.resolved[-(RESOLVED_KEPT - 1) :], incident.incident_id]
    state.incident = None
    if not late:
        return Decision("closed", state)
    carried = _carry_over(policy, state, resolution.desa_code, late)
    state.incident = carried
    if Severity(carried.severity).rank < Severity.MEDIUM.rank:
        return Decision("closed", state)
    carried.revision = 1
    revision = escalation(carried, resolution.desa_code, policy, arrival)
    body = revision.model_dump_json()
    carried.published = [[trigger_of(resolution), arrival.position, body]]
    return Decision("closed", state, escalation=revision, body=body.encode())


def _not_current(state: VillageState, resolution: Resolution, arrival: Arrival) -> Decision:
    """A resolution of an incident triage no longer holds open: read again, or of an older incident."""
    if resolution.incident_id not in state.resolved:
        return Decision("stale", None)
    carried = state.incident.published_by(trigger_of(resolution), arrival.position) if state.incident else None
    return Decision("duplicate", None, replay=carried.encode() if carried else None)


def _late(incident: Incident, resolved_at: float) -> list[Contribution]:
    parts = [Contribution.load(raw) for raw in incident.tail]
    return sorted((p for p in parts if p.record_time > resolved_at), key=lambda p: (p.record_time, p.event_id))


def _carry_over(policy: Policy, state: VillageState, desa_code: str, late: list[Contribution]) -> Incident:
    """A new incident of the late events, folded in the order the system took them."""
    carried = open_incident(desa_code, late[0].event_id, late[0].at)
    signals = {entry.event_id for entry in state.seen if entry.signal}
    for part in late:
        found = correlations(policy, state.seen, part.at) if part.event_id in signals else []
        fold(carried, part, found)
    return carried
