"""``make bench``: two stacks of its own, each figure measured the same way every time.

1. Broker stack (broker and Valkey only): N valid events produced straight onto the input topics
   (``raw_produce_eps``), read back (``raw_consume_eps``), drained by a bare Faust agent
   (``bare_faust_eps``) and by one triage worker (``triage_eps``): the same N messages each time.
2. Pipeline stack (receiver, notify, triage, ingest): end-to-end latency at a stated offered load,
   then, with triage and notify stopped, ingest alone: single POSTs and batch POSTs.
"""

import os
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

from bench import broker_figures, events, machine, report, service_figures, stacks
from bench.broker_figures import Message
from devstack.stack import Broker
from schemas.topics import Topics
from services.ingest.settings import IngestSettings

BENCH_BROKERS: tuple[Broker, ...] = ("embedded", "kafka")
"""The brokers ``--broker both`` measures, in this order, each with stacks of its own."""
INGEST_WORKERS = 2
"""Ingest's uvicorn workers for the ingest-alone figures, one per core of the 2-core bench machine: with
the lean load generator two gave 3,677–3,684 single POSTs/s against 2,685–3,535 for one. The end-to-end
run keeps the default (one), as two took CPU from triage there (k8s runs one per one-CPU pod)."""
E2E_RATE, E2E_SECONDS, E2E_ESCALATING_EVERY = 200.0, 20.0, 4
INGEST_SECONDS, INGEST_CONCURRENCY = 10.0, 64
ORDER = (
    "raw_produce_eps",
    "raw_consume_eps",
    "bare_faust_eps",
    "ingest_single_eps",
    "ingest_batch_eps",
    "triage_eps",
    "e2e_p50_ms",
    "e2e_p99_ms",
)


@dataclass(frozen=True)
class Counts:
    """How much each phase measures: the full run, or ``--quick`` for a smoke test while developing."""

    triage_events: int = 20_000
    e2e_seconds: float = E2E_SECONDS
    ingest_seconds: float = INGEST_SECONDS


FULL, QUICK = Counts(), Counts(triage_events=2_000, e2e_seconds=4.0, ingest_seconds=2.0)


class Phases:
    """The progress display: one line per phase, a bar where the phase has a known size."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress

    @contextmanager
    def phase(self, title: str, total: float | None = None) -> Iterator[Callable[[int], None]]:
        task: TaskID = self.progress.add_task(title, total=total)

        def advance(done: int) -> None:
            self.progress.update(task, completed=done)

        try:
            yield advance
        finally:
            self.progress.update(task, completed=total or 1, total=total or 1)


def messages(count: int) -> list[Message]:
    """``count`` valid events in the published form, keyed by village like ingest publishes them."""
    villages = events.uncovered_villages()
    out = []
    for body in events.mixed_events(count, villages):
        out.append(Message(Topics.BY_EVENT_TYPE[body["type"]], body["desa_code"].encode(), events.as_published(body)))
    return out


def broker_phase(
    phases: Phases,
    workdir: Path,
    broker: Broker,
    counts: Counts,
    figures: dict[str, float | None],
    notes: dict[str, str],
) -> None:
    import asyncio

    total = counts.triage_events
    stack = stacks.new_stack(workdir / "broker-stack", broker)
    try:
        with phases.phase(f"[{broker}] start broker and Valkey"):
            stacks.start_infra(stack)
        assert stack.kafka_bootstrap is not None
        with phases.phase(f"[{broker}] prepare {total:,} events"):
            batch = messages(total)
        with phases.phase(f"[{broker}] raw produce (aiokafka, acks=all)", total) as advance:
            figures["raw_produce_eps"] = asyncio.run(broker_figures.produce(stack.kafka_bootstrap, batch, advance))
        with phases.phase(f"[{broker}] raw consume (aiokafka, no group)", total) as advance:
            figures["raw_consume_eps"] = asyncio.run(broker_figures.consume(stack.kafka_bootstrap, total, advance))
        with phases.phase(f"[{broker}] bare Faust agent (worker subprocess)", total) as advance:
            figures["bare_faust_eps"] = broker_figures.bare_faust(
                stack.kafka_bootstrap, workdir, total, advance, stack.env()
            )
        with phases.phase(f"[{broker}] triage, one worker", total) as advance:
            stack.extra_env["WASPADA_TRIAGE_APP_ID"] = service_figures.TRIAGE_GROUP
            stack.start_service("triage")
            figures["triage_eps"], counted_by = service_figures.triage_eps(
                stack.url("triage"), stack.kafka_bootstrap, total, advance
            )
    finally:
        stack.stop()
    notes["raw_produce_eps"] = f"{total:,} events (~{len(batch[0].value)} B) onto the 3 input topics"
    notes["raw_consume_eps"] = "the same events, read back from the beginning"
    notes["bare_faust_eps"] = "the same events, a Faust agent that only counts (its own counter)"
    notes["triage_eps"] = f"the same events drained by one triage worker, 20 % escalating (counted by {counted_by})"


def pipeline_phase(
    phases: Phases,
    workdir: Path,
    broker: Broker,
    counts: Counts,
    figures: dict[str, float | None],
    notes: dict[str, str],
) -> dict[str, Any]:
    with phases.phase(f"[{broker}] start receiver, notify, triage, ingest"):
        stack, record = stacks.start_pipeline(workdir / "pipeline-stack", broker=broker)
    details: dict[str, Any] = {}
    try:
        with phases.phase(f"[{broker}] end to end at {E2E_RATE:.0f} events/s", int(counts.e2e_seconds)) as advance:
            assert stack.kafka_bootstrap is not None
            latency = service_figures.end_to_end(
                stack.url("ingest"),
                stack.kafka_bootstrap,
                record,
                rate=E2E_RATE,
                seconds=counts.e2e_seconds,
                escalating_every=E2E_ESCALATING_EVERY,
                progress=advance,
            )
        figures["e2e_p50_ms"], figures["e2e_p99_ms"] = latency.p50_ms, latency.p99_ms
        details["e2e"] = asdict(latency)
        notes["e2e_p50_ms"] = notes["e2e_p99_ms"] = (
            f"offered {E2E_RATE:.0f} events/s for {counts.e2e_seconds:.0f} s, 1 in {E2E_ESCALATING_EVERY} escalating; "
            f"POST → first webhook; {latency.measured} measured, {latency.undelivered} undelivered; p50 split: "
            f"POST → record on its topic {_ms(latency.to_topic_p50_ms)}, record → escalation (triage) "
            f"{_ms(latency.triage_p50_ms)}, escalation → webhook (notify) {_ms(latency.notify_p50_ms)}; p99 of each: "
            f"{_ms(latency.to_topic_p99_ms)}, {_ms(latency.triage_p99_ms)}, {_ms(latency.notify_p99_ms)}"
        )
        stack.stop("triage", "notify", "ingest")
        stack.extra_env["WASPADA_INGEST_WORKERS"] = str(INGEST_WORKERS)  # the end-to-end run kept the default
        stack.start_service("ingest")
        with phases.phase(
            f"[{broker}] ingest single POSTs, {INGEST_CONCURRENCY} in flight", int(counts.ingest_seconds)
        ):
            eps, statuses = service_figures.ingest_single(
                stack.url("ingest"), counts.ingest_seconds, INGEST_CONCURRENCY
            )
        figures["ingest_single_eps"] = eps
        details["ingest_single_statuses"] = statuses
        workers = stack.env().get("WASPADA_INGEST_WORKERS") or IngestSettings.model_fields["ingest_workers"].default
        notes["ingest_single_eps"] = (
            f"{INGEST_CONCURRENCY} in flight over keep-alive (raw HTTP/1.1 client, requests built beforehand); "
            "the load generator shares the 2 cores; "
            f"ingest with {workers} worker process(es)"
        )
        with phases.phase(f"[{broker}] ingest batch POSTs", int(counts.ingest_seconds)):
            batch = service_figures.ingest_batch(stack.url("ingest"), counts.ingest_seconds)
        figures["ingest_batch_eps"] = batch.eps
        details["ingest_batch_statuses"] = batch.statuses
        notes["ingest_batch_eps"] = batch.note
    finally:
        stack.stop()
    return details


def run(console: Console, brokers: tuple[Broker, ...] = BENCH_BROKERS, counts: Counts = FULL) -> dict[str, Any]:
    """Every figure on each broker in turn, each with stacks of its own; ``{"brokers": {name: section}, ...}``."""
    results: dict[str, Any] = {"measured_at": datetime.now(UTC).isoformat(), "machine": machine.describe()}
    workdir = Path(tempfile.mkdtemp(prefix="waspada-bench-"))
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    results["brokers"] = {}
    with Progress(*columns, console=console) as progress:
        for broker in brokers:
            results["brokers"][broker] = measure(Phases(progress), workdir / broker, broker, counts)
    results["counts"] = asdict(counts)
    results["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    return results


def measure(phases: Phases, workdir: Path, broker: Broker, counts: Counts) -> dict[str, Any]:
    """One broker's section: its raw figures, every other figure and its ratio to them, measured in this run."""
    started = time.monotonic()
    figures: dict[str, float | None] = {}
    notes: dict[str, str] = {}
    broker_phase(phases, workdir, broker, counts, figures, notes)
    details = pipeline_phase(phases, workdir, broker, counts, figures, notes)
    return section(figures, notes, details, wall_seconds=time.monotonic() - started)


def section(
    figures: dict[str, float | None], notes: dict[str, str], details: dict[str, Any], wall_seconds: float
) -> dict[str, Any]:
    """The figures in CONTRACT order with their ratios to this broker's raw figures, floors, notes and details."""
    rounded = {name: _round(figures.get(name)) for name in ORDER}
    return {
        "figures": rounded,
        "ratios": report.ratios(rounded),
        "floors": report.floors(rounded),
        "notes": notes,
        "details": details,
        "wall_seconds": round(wall_seconds, 1),
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f} ms"
