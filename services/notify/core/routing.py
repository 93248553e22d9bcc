"""Who gets what, and which timers an escalation starts: the routing decisions, apart from the sending.

From the incident's chain and the directory: one delivery per channel of every office that takes
the escalation's severity, at once for the village's offices (or the national desks standing in),
the copies of an uncertain jurisdiction and, when CRITICAL, the parents; later, when nobody
acknowledged in time, the parents again.
"""

from schemas.escalation import Escalation, Severity
from services.common.logs import get_logger
from services.notify.core.chain import Chain
from services.notify.core.delivery import Delivery
from services.notify.core.directory import Directory
from services.notify.core.payload import Kind, Notice

log = get_logger("waspada.notify")


def deliveries(
    directory: Directory, escalation: Escalation, office_ids: tuple[str, ...], notice: Notice
) -> list[Delivery]:
    """One delivery per channel of every office taking this severity; offices no longer listed are skipped."""
    found: list[Delivery] = []
    for office_id in office_ids:
        office = directory.get(office_id)
        if office is None:
            log.warning("notify.office_gone", office=office_id, escalation_id=escalation.escalation_id)
            continue
        if escalation.severity.rank < office.min_severity.rank:
            continue
        found += [Delivery(escalation, office, ch, i, notice) for i, ch in enumerate(office.channels)]
    return found


def initial(directory: Directory, escalation: Escalation, chain: Chain) -> list[Delivery]:
    """At once: the offices of the village (or the national desks standing in), the uncertain copies, and
    the parents when CRITICAL."""
    plan: list[tuple[tuple[str, ...], Kind]] = [
        (chain.primary, "jurisdiction"),
        (chain.desks, "fallback"),
        (chain.copies, "uncertain_copy"),
    ]
    if escalation.severity is Severity.CRITICAL:
        plan.append((chain.parents, "critical"))
    notice = [(ids, Notice(kind, 0, chain.uncertain)) for ids, kind in plan]
    return [d for ids, n in notice for d in deliveries(directory, escalation, ids, n)]


def counts_as_unacknowledged(escalation: Escalation, *, is_open: bool, newest: bool) -> bool:
    """MEDIUM and above, open, the incident's newest revision: ``waspada_escalations_unacknowledged`` counts it."""
    return is_open and newest and escalation.severity.rank >= Severity.MEDIUM.rank


def starts_timer(escalation: Escalation, *, is_open: bool) -> bool:
    """HIGH and above, open: the acknowledgement timer runs (its parents are paged when nobody acknowledges)."""
    return is_open and escalation.severity.rank >= Severity.HIGH.rank
