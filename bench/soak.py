"""The soak: steady load for minutes, sampling memory (RSS) and consumer lag of every service.

A leak or a consumer that slowly falls behind shows as a slope: MB per minute of RSS, messages
per minute of lag, fitted by least squares over the second half of the run (the first half
includes warm-up: imports, caches, connection pools filling).
"""

import asyncio
import itertools
import json
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
from rich.console import Console
from rich.live import Live
from rich.table import Table

from bench import events, kafka_tools, stacks
from bench.load import BackgroundLoad
from devstack.stack import Stack

SERVICES = ("ingest", "triage", "notify", "broker", "valkey")
RESULTS = Path(__file__).resolve().parent / "soak-results.json"


@dataclass
class Samples:
    """Time series of one soak: seconds since start → RSS MB per process, lag per consumer group."""

    t: list[float] = field(default_factory=list)
    rss_mb: dict[str, list[float]] = field(default_factory=dict)
    lag: dict[str, list[int]] = field(default_factory=dict)

    def add(self, t: float, rss: dict[str, float], lag: dict[str, int]) -> None:
        self.t.append(t)
        for name, value in rss.items():
            self.rss_mb.setdefault(name, []).append(value)
        for name, value in lag.items():
            self.lag.setdefault(name, []).append(value)


def rss_of(stack: Stack) -> dict[str, float]:
    """Resident memory of each process of the stack, MB (children included)."""
    out = {}
    for name in SERVICES:
        proc = stack.processes.get(name)
        if proc is None or not proc.alive():
            continue
        try:
            root = psutil.Process(proc.pid)
            out[name] = sum(p.memory_info().rss for p in [root, *root.children(recursive=True)]) / 2**20
        except psutil.NoSuchProcess:
            continue
    return out


def slope_per_minute(t: list[float], values: list[float]) -> float | None:
    """Least-squares slope over the second half of the series, per minute."""
    half = len(t) // 2
    xs, ys = t[half:], values[half:]
    if len(xs) < 3 or len(set(xs)) < 2:
        return None
    return statistics.linear_regression(xs, ys).slope * 60


def summarise(samples: Samples, sent: int, accepted: int, minutes: float, rate: float) -> dict[str, Any]:
    """Figures of the soak for the report and soak-results.json."""
    memory = {
        name: {
            "first_mb": round(v[0], 1),
            "last_mb": round(v[-1], 1),
            "max_mb": round(max(v), 1),
            "slope_mb_per_min": _r(slope_per_minute(samples.t[-len(v) :], v)),
        }
        for name, v in samples.rss_mb.items()
    }
    lag = {
        name: {
            "max": max(v),
            "last": v[-1],
            "slope_per_min": _r(slope_per_minute(samples.t[-len(v) :], [float(x) for x in v])),
        }
        for name, v in samples.lag.items()
    }
    return {
        "minutes": minutes,
        "offered_eps": rate,
        "sent": sent,
        "accepted": accepted,
        "samples": len(samples.t),
        "memory": memory,
        "lag": lag,
    }


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def soak_bodies() -> Any:
    """1 in 10 escalating in a covered village (cycling), the rest routine anywhere."""
    covered, routine = itertools.cycle(events.covered_villages()), itertools.cycle(events.uncovered_villages())
    for i in itertools.count(1):
        yield events.escalating_tip(next(covered)) if i % 10 == 0 else events.routine_tip(next(routine))


def run(
    stack: Stack, *, seconds: float, rate: float, interval: float = 5.0, live: Live | None = None
) -> dict[str, Any]:
    """Load ``stack`` at ``rate`` for ``seconds``, sampling every ``interval``; returns the summary."""
    assert stack.kafka_bootstrap is not None
    samples = Samples()
    load = BackgroundLoad(stack.url("ingest"), soak_bodies(), rate=rate).start()
    start = time.monotonic()
    try:
        while (elapsed := time.monotonic() - start) < seconds:
            lag = asyncio.run(kafka_tools.group_lag(stack.kafka_bootstrap))
            samples.add(elapsed, rss_of(stack), lag)
            if live is not None:
                live.update(snapshot(samples, elapsed, seconds))
            time.sleep(max(0.0, interval - (time.monotonic() - start - elapsed)))
    finally:
        sent = load.stop()
    return summarise(samples, len(sent), sum(1 for s in sent if s.status == 202), seconds / 60, rate)


def snapshot(samples: Samples, elapsed: float, seconds: float) -> Table:
    table = Table(title=f"soak {elapsed:.0f} / {seconds:.0f} s")
    table.add_column("what")
    table.add_column("now")
    table.add_column("slope / min (2nd half)")
    for name, v in samples.rss_mb.items():
        slope = slope_per_minute(samples.t[-len(v) :], v)
        table.add_row(f"{name} RSS MB", f"{v[-1]:.1f}", "" if slope is None else f"{slope:+.2f}")
    for name, lags in samples.lag.items():
        slope = slope_per_minute(samples.t[-len(lags) :], [float(x) for x in lags])
        table.add_row(f"lag {name}", str(lags[-1]), "" if slope is None else f"{slope:+.1f}")
    return table


def main(console: Console, *, minutes: float, rate: float) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="waspada-soak-"))
    with console.status("starting the pipeline …"):
        stack, _record = stacks.start_pipeline(workdir)
    try:
        with Live(console=console, refresh_per_second=1) as live:
            summary = run(stack, seconds=minutes * 60, rate=rate, live=live)
    finally:
        stack.stop()
    RESULTS.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    console.print_json(json.dumps(summary))
    console.print(f"written to {RESULTS}")
