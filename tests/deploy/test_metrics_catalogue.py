"""Every service's /metrics after a scenario against the catalogue of docs/operations.md, and the counts it left.

The catalogue is parsed from docs/operations.md "Metrics", so the documentation and the code cannot drift:
a metric added to a service without a row, or a row whose type, labels or service changed, fails.
"""

import re

import pytest
from prometheus_client.metrics_core import Metric

from devstack.stack import Stack
from tests.deploy.catalogue import CatalogueEntry, catalogue
from tests.deploy.prometheus_server import SERVICES, PrometheusServer
from tests.deploy.scenario import Scenario
from tests.deploy.scrape import assert_none_broken, family_name, scrape, scrape_all, value
from tests.support import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.broker("kafka")]

BOUNDED_VALUE = re.compile(r"^[A-Za-z][A-Za-z0-9_.+-]{0,39}$")
BOUNDED_SHAPES = {"code": re.compile(r"^[1-5]\d\d$"), "route": re.compile(r"^(other|/[a-z0-9/:_.-]{1,40})$")}
UNBOUNDED = re.compile(r"^[0-9a-f]{8}-|\d{2}\.\d{2}|\d{6,}|@")
"""UUIDs, village codes, long digit runs (phone numbers, NIK, passport numbers), e-mail addresses."""


def _all(stack: Stack) -> tuple[dict[str, dict[str, Metric]], list[str]]:
    return scrape_all({name: stack.url(name) for name in SERVICES})


def _label_names(family: Metric) -> set[str]:
    return {name for sample in family.samples for name in sample.labels if name not in {"le", "quantile"}}


def test_catalogue_has_the_metrics_of_contract_section_7() -> None:
    contract = {
        "waspada_ingest_events_total": {"type", "channel", "status"},
        "waspada_triage_events_total": {"type", "outcome"},
        "waspada_escalations_total": {"severity"},
        "waspada_notifications_total": {"channel", "outcome"},
        "waspada_notification_delivery_seconds": set(),
        "waspada_end_to_end_seconds": set(),
        "waspada_escalations_unacknowledged": {"severity"},
        "waspada_deadletter_total": {"stage", "reason"},
    }
    entries = catalogue()
    for name, labels in contract.items():
        assert name in entries, f"docs/operations.md lacks {name} (CONTRACT §7)"
        assert entries[name].labels == labels, name
        assert entries[name].meaning and entries[name].type in {"counter", "gauge", "histogram"}


def test_every_catalogued_metric_is_exposed_with_its_type_and_labels(
    observed: tuple[Stack, PrometheusServer], scenario: Scenario
) -> None:
    exposed, broken = _all(observed[0])
    for entry in catalogue().values():
        for service in entry.services - set(broken):
            family = exposed[service].get(family_name(entry.name, entry.type))
            assert family is not None, f"{entry.name} is catalogued for {service} but not at its /metrics"
            assert family.type == entry.type, f"{entry.name} on {service}: {family.type}, catalogue says {entry.type}"
            assert _label_names(family) <= entry.labels, f"{entry.name} on {service}: labels {_label_names(family)}"
            if family.samples and entry.type != "histogram":
                assert _label_names(family) == entry.labels, f"{entry.name} on {service}"
    assert_none_broken(broken)


def test_every_exposed_waspada_metric_is_catalogued(
    observed: tuple[Stack, PrometheusServer], scenario: Scenario
) -> None:
    entries = catalogue()
    by_family: dict[str, CatalogueEntry] = {family_name(e.name, e.type): e for e in entries.values()}
    exposed, broken = _all(observed[0])
    for service, families in exposed.items():
        for name in families:
            if name.startswith("waspada_"):
                assert name in by_family, f"{service} exposes {name}, which docs/operations.md lacks"
                assert service in by_family[name].services, f"{name}: catalogue does not list {service}"
    assert_none_broken(broken)


def test_label_values_are_bounded(observed: tuple[Stack, PrometheusServer], scenario: Scenario) -> None:
    exposed, broken = _all(observed[0])
    for service, families in exposed.items():
        for name, family in families.items():
            if not name.startswith("waspada_"):
                continue
            for sample in family.samples:
                for label, label_value in sample.labels.items():
                    if label in {"le", "quantile"}:
                        continue
                    if label in BOUNDED_SHAPES:  # HTTP status codes, ingest's own route paths
                        assert BOUNDED_SHAPES[label].match(label_value), f"{service} {sample.name}: {label_value!r}"
                        continue
                    assert BOUNDED_VALUE.match(label_value) and not UNBOUNDED.search(label_value), (
                        f"{service} {sample.name}{{{label}={label_value!r}}}: not a bounded label value"
                    )
    assert_none_broken(broken)


def test_counters_count_the_scenario(observed: tuple[Stack, PrometheusServer], scenario: Scenario) -> None:
    stack = observed[0]
    ingest = scrape(stack.url("ingest"))
    assert value(ingest, "waspada_ingest_events_total", type="tip", channel="demo-village", status="accepted") == 2
    assert value(ingest, "waspada_ingest_events_total", type="tip", channel="demo-village", status="duplicate") == 1
    assert value(ingest, "waspada_ingest_publish_seconds_count") == 2

    notify = scrape(stack.url("notify"))
    delivered = value(notify, "waspada_notifications_total", channel="webhook", outcome="delivered")
    served = {(n["payload"]["desa_code"], n["office_id"]) for n in scenario.received}
    assert len(served) >= 4 and delivered >= len(served)
    assert value(notify, "waspada_notifications_total", outcome="failed") == 0
    assert value(notify, "waspada_notification_delivery_seconds_count") >= delivered
    assert value(notify, "waspada_end_to_end_seconds_count") >= 2

    _, broken = scrape_all({"triage": stack.url("triage")})
    assert_none_broken(broken)

    def triage_done() -> dict[str, Metric] | None:
        families = scrape(stack.url("triage"))
        return families if value(families, "waspada_triage_events_total") == 3 else None

    triage = wait_for(triage_done, timeout=30, what="triage to count 2 tips and 1 poison message")
    assert value(triage, "waspada_triage_events_total", type="tip", outcome="escalated") == 2
    assert value(triage, "waspada_triage_events_total", type="tip", outcome="invalid") == 1
    assert value(triage, "waspada_escalations_total") == 2
    assert value(triage, "waspada_deadletter_total", stage="triage", reason="invalid") == 1
