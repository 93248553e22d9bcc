"""Grafana dashboards as code: ``make dashboards`` writes them to ``deploy/grafana/dashboards/``.

Built with Grafana's own builder library (grafana-foundation-sdk) so that panel JSON follows the
schema of the Grafana version it targets instead of hand-edited JSON drifting away from it. The
checked-in JSON is what Grafana provisions; tests/deploy regenerates it in memory and fails when
the files are stale, and sends every query below to a real Prometheus to prove it parses.
"""

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grafana_foundation_sdk.builders import dashboard, prometheus, stat, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import DataSourceRef, GridPos

OUT_DIR = Path(__file__).resolve().parent / "dashboards"
DATASOURCE = DataSourceRef(type_val="prometheus", uid="${datasource}")
TAGS = ["waspada", "generated"]
E2E_QUANTILES = (0.5, 0.9, 0.99)


@dataclass(frozen=True)
class Query:
    """One PromQL target with its legend (``{{label}}`` placeholders, Grafana-style)."""

    expr: str
    legend: str = ""


@dataclass(frozen=True)
class PanelSpec:
    """What a panel shows; the layout is computed by :func:`_dashboard`."""

    title: str
    queries: tuple[Query, ...]
    unit: str = "short"
    kind: str = "timeseries"
    description: str = ""
    width: int = 12


def _target(query: Query, ref: str) -> prometheus.Dataquery:
    return prometheus.Dataquery().expr(query.expr).legend_format(query.legend or "__auto").ref_id(ref)


def _panel(spec: PanelSpec, pos: GridPos, panel_id: int) -> timeseries.Panel | stat.Panel:
    panel: timeseries.Panel | stat.Panel = stat.Panel() if spec.kind == "stat" else timeseries.Panel()
    panel = panel.id(panel_id).title(spec.title).unit(spec.unit).datasource(DATASOURCE).grid_pos(pos)
    if spec.description:
        panel = panel.description(spec.description)
    for index, query in enumerate(spec.queries):
        panel = panel.with_target(_target(query, chr(ord("A") + index)))
    return panel


def _dashboard(uid: str, title: str, description: str, rows: list[tuple[str, list[PanelSpec]]]) -> dict[str, Any]:
    """A dashboard with a datasource picker and rows of panels laid out left to right."""
    board = (
        dashboard.Dashboard(title)
        .uid(uid)
        .description(description)
        .tags(TAGS)
        .refresh("30s")
        .time("now-1h", "now")
        .timezone("browser")
        .with_variable(dashboard.DatasourceVariable("datasource").label("Data source").type("prometheus"))
    )
    y, panel_id = 0, 0
    for row_title, specs in rows:
        panel_id += 1
        board = board.with_row(dashboard.Row(row_title).id(panel_id).grid_pos(GridPos(h=1, w=24, x=0, y=y)))
        y += 1
        x = 0
        for spec in specs:
            if x + spec.width > 24:
                x, y = 0, y + 8
            panel_id += 1
            board = board.with_panel(_panel(spec, GridPos(h=8, w=spec.width, x=x, y=y), panel_id))
            x += spec.width
        y += 8
    encoded: dict[str, Any] = json.loads(JSONEncoder(sort_keys=True, indent=2).encode(board.build()))
    return encoded


def _rate(metric: str, by: str, where: str = "") -> str:
    selector = f"{metric}{{{where}}}" if where else metric
    return f"sum by ({by}) (rate({selector}[$__rate_interval]))"


def _quantiles(metric: str, where: str = "") -> tuple[Query, ...]:
    selector = f"{metric}_bucket{{{where}}}" if where else f"{metric}_bucket"
    return tuple(
        Query(f"histogram_quantile({q}, sum by (le) (rate({selector}[$__rate_interval])))", f"p{round(q * 100)}")
        for q in E2E_QUANTILES
    )


LAG = Query(
    'sum by (consumergroup, topic) (kafka_consumergroup_lag{consumergroup=~"waspada-.*"})',
    "{{consumergroup}} {{topic}}",
)
UP = Query('up{job=~"waspada-.*"}', "{{job}} {{instance}}")
DEADLETTERS = PanelSpec(
    "Dead letters by stage and reason",
    (Query(_rate("waspada_deadletter_total", "stage, reason"), "{{stage}} {{reason}}"),),
    "ops",
    description="Messages parked on waspada.deadletter.v1. Any is worth a look: each record names its source offset.",
)
UNACKNOWLEDGED = PanelSpec(
    "Unacknowledged escalations by severity",
    (Query("sum by (severity) (waspada_escalations_unacknowledged)", "{{severity}}"),),
    description="Open escalations no office has acknowledged. A CRITICAL past the policy's time pages (alert rules).",
)


def overview() -> dict[str, Any]:
    """The one board an operator opens first: flow, outcomes, latency, backlog, trouble."""
    return _dashboard(
        "waspada-overview",
        "Waspada / Pipeline overview",
        "Reports in, triage outcomes, escalations out, deliveries, latency, lag and dead letters.",
        [
            (
                "Flow",
                [
                    PanelSpec(
                        "Events in by type and channel",
                        (
                            Query(
                                _rate("waspada_ingest_events_total", "type, channel", 'status="accepted"'),
                                "{{type}} via {{channel}}",
                            ),
                        ),
                        "ops",
                    ),
                    PanelSpec(
                        "Triage outcomes",
                        (Query(_rate("waspada_triage_events_total", "outcome"), "{{outcome}}"),),
                        "ops",
                    ),
                    PanelSpec(
                        "Escalations by severity",
                        (Query(_rate("waspada_escalations_total", "severity"), "{{severity}}"),),
                        "ops",
                    ),
                    PanelSpec(
                        "Deliveries by outcome",
                        (Query(_rate("waspada_notifications_total", "channel, outcome"), "{{channel}} {{outcome}}"),),
                        "ops",
                    ),
                ],
            ),
            (
                "Latency and backlog",
                [
                    PanelSpec(
                        "End-to-end latency (ingest receipt → first delivered notification)",
                        _quantiles("waspada_end_to_end_seconds"),
                        "s",
                    ),
                    PanelSpec(
                        "Consumer lag", (LAG,), description="From the Kafka exporter, per consumer group and topic."
                    ),
                ],
            ),
            ("Trouble", [DEADLETTERS, UNACKNOWLEDGED]),
            ("Services", [PanelSpec("Targets up", (UP,), kind="stat", width=24)]),
        ],
    )


def ingest() -> dict[str, Any]:
    """Ingest: what each channel sends and what it gets back."""
    return _dashboard(
        "waspada-ingest",
        "Waspada / Ingest",
        "The front door: events by channel and outcome, and the time Kafka takes to acknowledge them.",
        [
            (
                "Requests",
                [
                    PanelSpec(
                        "Events by outcome",
                        (Query(_rate("waspada_ingest_events_total", "status"), "{{status}}"),),
                        "ops",
                    ),
                    PanelSpec(
                        "Events by channel and type",
                        (Query(_rate("waspada_ingest_events_total", "channel, type"), "{{channel}} {{type}}"),),
                        "ops",
                    ),
                    PanelSpec(
                        "Refused by channel (everything but accepted and duplicate)",
                        (
                            Query(
                                _rate("waspada_ingest_events_total", "channel, status", 'status!~"accepted|duplicate"'),
                                "{{channel}} {{status}}",
                            ),
                        ),
                        "ops",
                    ),
                    PanelSpec("Kafka acknowledgement time", _quantiles("waspada_ingest_publish_seconds"), "s"),
                ],
            ),
            ("Process", [PanelSpec("Up", (Query('up{job="waspada-ingest"}', "{{instance}}"),), kind="stat", width=24)]),
        ],
    )


def triage() -> dict[str, Any]:
    """Triage: outcomes, escalations, backlog of the Faust workers, dead letters."""
    return _dashboard(
        "waspada-triage",
        "Waspada / Triage",
        "The Faust workers: what they decide, what they escalate, how far behind they are.",
        [
            (
                "Decisions",
                [
                    PanelSpec(
                        "Events by type and outcome",
                        (Query(_rate("waspada_triage_events_total", "type, outcome"), "{{type}} {{outcome}}"),),
                        "ops",
                    ),
                    PanelSpec(
                        "Escalation revisions by severity",
                        (Query(_rate("waspada_escalations_total", "severity"), "{{severity}}"),),
                        "ops",
                    ),
                ],
            ),
            (
                "Backlog and trouble",
                [
                    PanelSpec(
                        "Consumer lag of waspada-triage by partition",
                        (
                            Query(
                                'sum by (topic, partition) (kafka_consumergroup_lag{consumergroup="waspada-triage"})',
                                "{{topic}}[{{partition}}]",
                            ),
                        ),
                    ),
                    PanelSpec(
                        "Dead letters from triage",
                        (Query(_rate("waspada_deadletter_total", "reason", 'stage="triage"'), "{{reason}}"),),
                        "ops",
                    ),
                ],
            ),
            (
                "Process",
                [PanelSpec("Workers up", (Query('up{job="waspada-triage"}', "{{instance}}"),), kind="stat", width=24)],
            ),
        ],
    )


def notify() -> dict[str, Any]:
    """Notify: deliveries, their latency, acknowledgements outstanding, dead letters."""
    return _dashboard(
        "waspada-notify",
        "Waspada / Notify",
        "Deliveries to the Polres, Kantor Imigrasi and their parents; acknowledgements outstanding.",
        [
            (
                "Deliveries",
                [
                    PanelSpec(
                        "Deliveries by channel and outcome",
                        (Query(_rate("waspada_notifications_total", "channel, outcome"), "{{channel}} {{outcome}}"),),
                        "ops",
                    ),
                    PanelSpec("Delivery attempt time", _quantiles("waspada_notification_delivery_seconds"), "s"),
                    PanelSpec("End-to-end latency", _quantiles("waspada_end_to_end_seconds"), "s"),
                    UNACKNOWLEDGED,
                ],
            ),
            (
                "Backlog and trouble",
                [
                    PanelSpec(
                        "Consumer lag of waspada-notify",
                        (
                            Query(
                                'sum by (topic) (kafka_consumergroup_lag{consumergroup="waspada-notify"})', "{{topic}}"
                            ),
                        ),
                    ),
                    PanelSpec(
                        "Dead letters from notify",
                        (Query(_rate("waspada_deadletter_total", "reason", 'stage="notify"'), "{{reason}}"),),
                        "ops",
                    ),
                ],
            ),
            ("Process", [PanelSpec("Up", (Query('up{job="waspada-notify"}', "{{instance}}"),), kind="stat", width=24)]),
        ],
    )


DASHBOARDS: dict[str, Callable[[], dict[str, Any]]] = {
    "waspada-overview.json": overview,
    "waspada-ingest.json": ingest,
    "waspada-triage.json": triage,
    "waspada-notify.json": notify,
}


def render() -> dict[str, str]:
    """File name → JSON text of every dashboard, exactly as written to disk."""
    return {name: json.dumps(build(), indent=2, sort_keys=True) + "\n" for name, build in DASHBOARDS.items()}


def main() -> None:
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    for name, text in render().items():
        (OUT_DIR / name).write_text(text, encoding="utf-8")
        print(f"wrote {OUT_DIR / name}", file=sys.stderr)


if __name__ == "__main__":
    main()
