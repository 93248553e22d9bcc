"""Ratios, floors, the printed table and ``bench/results.json``."""

import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

RESULTS = Path(__file__).resolve().parent / "results.json"

RATIOS = {
    "raw_consume_eps": "raw_produce_eps",
    "bare_faust_eps": "raw_consume_eps",
    "ingest_single_eps": "raw_produce_eps",
    "ingest_batch_eps": "raw_produce_eps",
    "triage_eps": "bare_faust_eps",
}
"""Each figure over its raw counterpart: ingest over the broker's produce rate, triage over a bare Faust agent."""


def ratios(figures: dict[str, float | None]) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for name, base in RATIOS.items():
        value, reference = figures.get(name), figures.get(base)
        out[f"{name}/{base}"] = round(value / reference, 3) if value is not None and reference else None
    return out


def floors(figures: dict[str, float | None]) -> dict[str, dict[str, Any]]:
    """The floors of issue 8 on this 2-core machine, each with the value reached and whether it holds."""
    raw, bare = figures.get("raw_produce_eps"), figures.get("bare_faust_eps")
    rules: list[tuple[str, str, float | None, float | None, bool]] = [
        ("ingest_batch_eps", "≥ 40 % of raw_produce_eps", figures.get("ingest_batch_eps"), raw and 0.4 * raw, True),
        ("ingest_single_eps", "≥ 3,000", figures.get("ingest_single_eps"), 3000.0, True),
        ("triage_eps", "≥ 50 % of bare_faust_eps", figures.get("triage_eps"), bare and 0.5 * bare, True),
        ("e2e_p99_ms", "≤ 500 at 200 events/s", figures.get("e2e_p99_ms"), 500.0, False),
    ]
    out = {}
    for name, rule, value, bound, at_least in rules:
        met = None if value is None or bound is None else (value >= bound if at_least else value <= bound)
        out[name] = {"floor": rule, "bound": bound and round(bound, 1), "value": value, "met": met}
    return out


def table(figures: dict[str, float | None], notes: dict[str, str], broker: str = "embedded") -> Table:
    shown = Table(
        title=f"Waspada bench on the {broker} broker (events/s unless ms; ratios to this broker's raw figures)"
    )
    for column in ("figure", "value", "ratio to raw", "floor", "", "how"):
        shown.add_column(column, overflow="fold")
    ratio_of = {k.split("/")[0]: (v, k.split("/")[1]) for k, v in ratios(figures).items()}
    floor_of = floors(figures)
    for name, value in figures.items():
        ratio, base = ratio_of.get(name, (None, ""))
        floor = floor_of.get(name)
        mark = (
            ""
            if floor is None or floor["met"] is None
            else ("[green]met[/green]" if floor["met"] else "[red]short[/red]")
        )
        shown.add_row(
            name,
            "null" if value is None else f"{value:,.1f}",
            f"{ratio:.1%} of {base}" if ratio is not None else "",
            floor["floor"] if floor else "",
            mark,
            notes.get(name, ""),
        )
    return shown


def write(results: dict[str, Any], path: Path = RESULTS) -> None:
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def show(results: dict[str, Any], console: Console, path: Path = RESULTS) -> None:
    """One table per broker measured, in the order measured, then where the results went."""
    brokers = results["brokers"]
    console.print(f"measured on: {', '.join(brokers)}")
    for broker, section in brokers.items():
        console.print(table(section["figures"], section["notes"], broker))
    console.print(f"written to {path}")
