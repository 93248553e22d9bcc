"""Grafana dashboards as code: the checked-in JSON is current, complete, and names real metrics."""

import json
import re
from typing import Any

import yaml

from deploy.grafana.build import OUT_DIR, render
from services.common.settings import REPO_ROOT
from tests.deploy.catalogue import EXTERNAL_METRICS, catalogue

GRAFANA = REPO_ROOT / "deploy" / "grafana"
METRIC = re.compile(r"\b(?:waspada|kafka)_[a-z0-9_]+\b|\bup(?=\{)")


def _boards() -> dict[str, dict[str, Any]]:
    return {name: json.loads(text) for name, text in render().items()}


def _exprs(board: dict[str, Any]) -> list[str]:
    return [t["expr"] for p in board["panels"] for t in p.get("targets", [])]


def test_checked_in_dashboards_are_current() -> None:
    rendered = render()
    on_disk = {path.name: path.read_text(encoding="utf-8") for path in OUT_DIR.glob("*.json")}
    assert set(on_disk) == set(rendered), "run `make dashboards`"
    for name, text in rendered.items():
        assert on_disk[name] == text, f"{name} is stale: run `make dashboards`"


def test_overview_shows_what_issue_7_asks_for() -> None:
    overview = _boards()["waspada-overview.json"]
    titles = " | ".join(p["title"] for p in overview["panels"]).lower()
    for wanted in (
        "events in by type and channel",
        "triage outcomes",
        "escalations by severity",
        "deliveries by outcome",
        "end-to-end latency",
        "consumer lag",
        "dead letters",
        "unacknowledged escalations",
    ):
        assert wanted in titles, wanted
    exprs = " ".join(_exprs(overview))
    assert all(f"histogram_quantile({q}," in exprs for q in ("0.5", "0.9", "0.99"))


def test_one_dashboard_per_service_and_unique_panel_ids() -> None:
    boards = _boards()
    assert {b["uid"] for b in boards.values()} == {
        "waspada-overview",
        "waspada-ingest",
        "waspada-triage",
        "waspada-notify",
    }
    for name, board in boards.items():
        ids = [p["id"] for p in board["panels"]]
        assert len(ids) == len(set(ids)), name
        for panel in board["panels"]:
            if panel["type"] != "row":
                assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, (name, panel["title"])
                assert panel["targets"], (name, panel["title"])


def test_dashboards_and_rules_use_only_catalogued_metrics() -> None:
    known = {e.name for e in catalogue().values()} | EXTERNAL_METRICS
    known |= {f"{e.name}_bucket" for e in catalogue().values() if e.type == "histogram"}
    rules = yaml.safe_load((REPO_ROOT / "deploy" / "prometheus" / "rules" / "waspada.rules.yml").read_text())
    exprs = [e for b in _boards().values() for e in _exprs(b)] + [
        r["expr"] for g in rules["groups"] for r in g["rules"]
    ]
    used = {m for expr in exprs for m in METRIC.findall(expr)}
    assert "up" in used
    assert {"waspada_ingest_events_total", "kafka_consumergroup_lag", "waspada_end_to_end_seconds_bucket"} <= used
    assert used <= known, f"not in the metrics catalogue (docs/operations.md): {sorted(used - known)}"


def test_provisioning_points_at_the_dashboards_compose_mounts() -> None:
    provider = yaml.safe_load((GRAFANA / "provisioning" / "dashboards" / "waspada.yaml").read_text())["providers"][0]
    datasource = yaml.safe_load((GRAFANA / "provisioning" / "datasources" / "prometheus.yaml").read_text())
    compose = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())
    mounts = compose["services"]["grafana"]["volumes"]
    assert f"./deploy/grafana/dashboards:{provider['options']['path']}:ro" in mounts
    assert "./deploy/grafana/provisioning:/etc/grafana/provisioning:ro" in mounts
    (source,) = datasource["datasources"]
    assert source["type"] == "prometheus" and source["isDefault"] is True
    assert source["url"] == "http://prometheus:9090" and "prometheus" in compose["services"]
