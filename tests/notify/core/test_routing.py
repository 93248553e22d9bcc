"""services/notify/core/routing.py: who gets an escalation at once, by severity, and which timers it starts."""

from schemas.escalation import Escalation
from services.common.config_files import read_config
from services.common.settings import CONFIG_DIR
from services.notify.core.chain import resolve
from services.notify.core.directory import Directory
from services.notify.core.routing import counts_as_unacknowledged, initial, starts_timer
from tests.factories import LONTAR, escalation

DIRECTORY = read_config(CONFIG_DIR / "directory.yaml", Directory)


def _offices_and_kinds(severity: str) -> set[tuple[str, str]]:
    esc = Escalation.model_validate(escalation(severity=severity))
    return {(d.office.id, d.notice.kind) for d in initial(DIRECTORY, esc, resolve(DIRECTORY, LONTAR))}


def test_the_village_offices_get_it_at_once_and_the_parents_only_when_critical() -> None:
    medium, critical = _offices_and_kinds("MEDIUM"), _offices_and_kinds("CRITICAL")
    assert {("polres-serang", "jurisdiction"), ("kanim-serang", "jurisdiction")} <= medium
    assert not any(kind == "critical" for _, kind in medium)
    assert ("polda-banten", "critical") in critical


def test_an_office_below_its_minimum_severity_gets_nothing() -> None:
    assert _offices_and_kinds("LOW") == set()


def test_one_delivery_per_channel_with_ids_distinct_per_channel() -> None:
    esc = Escalation.model_validate(escalation(severity="CRITICAL"))
    found = initial(DIRECTORY, esc, resolve(DIRECTORY, LONTAR))
    per_office = {o.id: len(o.channels) for o in DIRECTORY.offices}
    for office_id in {d.office.id for d in found}:
        assert sum(d.office.id == office_id for d in found) == per_office[office_id]
    assert len({d.id for d in found}) == len(found)


def test_the_gauge_counts_medium_and_up_and_the_timer_runs_for_high_and_up() -> None:
    def esc(severity: str) -> Escalation:
        return Escalation.model_validate(escalation(severity=severity))

    assert counts_as_unacknowledged(esc("MEDIUM"), is_open=True, newest=True)
    assert not counts_as_unacknowledged(esc("MEDIUM"), is_open=True, newest=False)
    assert not counts_as_unacknowledged(esc("LOW"), is_open=True, newest=True)
    assert starts_timer(esc("HIGH"), is_open=True) and not starts_timer(esc("MEDIUM"), is_open=True)
    assert not starts_timer(esc("CRITICAL"), is_open=False)
