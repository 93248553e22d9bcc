"""Figures of Waspada's own services: ingest (single and batch POSTs), triage (one worker), end to end."""

import asyncio
import re
import statistics
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import orjson

from bench import events
from bench import ingest_load as loadtest
from bench.broker_figures import Progress, drain_rate, worker_drain
from bench.kafka_tools import read_all
from bench.load import HEADERS, PATHS, Sent, at_rate, session
from bench.receiver import read_record
from bench.stacks import BENCH_TOKEN
from schemas.topics import Topics

TRIAGE_GROUP = "waspada-bench-triage"
"""Set as ``WASPADA_TRIAGE_APP_ID`` of the measured worker, so its consumer group is known."""


TRIAGE_COUNTER = re.compile(r"^waspada_triage_events_total\{[^}]*\}\s+([0-9.e+]+)$", re.MULTILINE)


def triage_processed(metrics_url: str) -> int | None:
    """Sum of ``waspada_triage_events_total`` over its labels; None when /metrics does not answer 200."""
    try:
        with urllib.request.urlopen(metrics_url, timeout=5) as response:
            text = response.read().decode()
    except OSError:
        return None
    return int(sum(float(v) for v in TRIAGE_COUNTER.findall(text)))


def triage_eps(triage_url: str, bootstrap: str, total: int, progress: Progress) -> tuple[float, str]:
    """One triage worker draining ``total`` pre-produced events; the rate and how it was counted.

    By ``waspada_triage_events_total`` on its /metrics (exact, like the bare agent's counter);
    by its consumer group's committed offsets when /metrics does not answer.
    """
    if triage_processed(triage_url + "/metrics") is not None:
        return drain_rate(lambda: triage_processed(triage_url + "/metrics") or 0, total, progress), "its /metrics"
    return worker_drain(bootstrap, TRIAGE_GROUP, total, progress), "committed offsets: its /metrics answers 500"


SINGLE_CEILING_EPS = 8_000
"""Bodies prepared per second of the single-POST run: more than ingest can take on two cores."""


def ingest_single(base: str, seconds: float, concurrency: int) -> tuple[float, dict[str, int]]:
    """Single-event POSTs, ``concurrency`` in flight over keep-alive connections, for ``seconds``.

    The client is the raw HTTP/1.1 one of ``bench.ingest_load`` with requests built before the
    clock starts (as wrk does): aiohttp took ~0.3 ms of the two shared cores per request, about as much
    as ingest itself, so the figure measured the client as much as the service. Returns accepted
    events/s and the count of every answer (status word of a 202, else the HTTP status).
    """
    villages = _villages_forever()
    bodies = [orjson.dumps(events.routine_tip(next(villages))) for _ in range(int(seconds * SINGLE_CEILING_EPS))]
    elapsed, statuses = asyncio.run(
        loadtest.run_load(base, PATHS["tip"], BENCH_TOKEN, bodies, concurrency, seconds=seconds)
    )
    return statuses.get("accepted", 0) / elapsed, dict(statuses)


@dataclass
class BatchFigure:
    eps: float | None
    note: str
    statuses: dict[str, int]


async def _batches(base: str, seconds: float, size: int, concurrency: int) -> BatchFigure:
    villages = _villages_forever()
    counts: dict[str, int] = {}
    async with session(concurrency) as client:
        probe = await client.post(base + "/v1/events:batch", json={"events": []}, headers=HEADERS)
        if probe.status in (404, 405):
            return BatchFigure(None, f"POST /v1/events:batch answered {probe.status}: not implemented yet", {})
        deadline = time.monotonic() + seconds

        async def worker() -> None:
            while time.monotonic() < deadline:
                body = {"events": [events.routine_tip(next(villages)) for _ in range(size)]}
                async with client.post(base + "/v1/events:batch", json=body, headers=HEADERS) as response:
                    answer = await response.json(content_type=None)
                    if response.status != 202:
                        counts[f"http_{response.status}"] = counts.get(f"http_{response.status}", 0) + 1
                        continue
                    for result in answer.get("results", []):
                        counts[result.get("status", "?")] = counts.get(result.get("status", "?"), 0) + 1

        start = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.monotonic() - start
    note = f"{size} events per request, {concurrency} requests in flight"
    return BatchFigure(counts.get("accepted", 0) / elapsed, note, counts)


def ingest_batch(base: str, seconds: float, size: int = 500, concurrency: int = 4) -> BatchFigure:
    """``POST /v1/events:batch`` flat out; None with a note while the endpoint does not exist."""
    try:
        return asyncio.run(_batches(base, seconds, size, concurrency))
    except aiohttp.ClientError as exc:
        return BatchFigure(None, f"POST /v1/events:batch failed: {exc}", {})


def _villages_forever() -> Iterator[str]:
    codes = events.uncovered_villages()
    while True:
        yield from codes


@dataclass
class Latency:
    offered_eps: float
    seconds: float
    escalating_share: float
    p50_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    measured: int
    undelivered: int
    answered: dict[int, int]
    to_topic_p50_ms: float | None
    """POST → the triggering record's Kafka timestamp, which is the escalation's ``created_at`` (ingest)."""
    triage_p50_ms: float | None
    """Triggering record → the escalation record's Kafka timestamp (broker, triage, its queue)."""
    notify_p50_ms: float | None
    """The escalation record → webhook arrival (broker, notify, the receiver)."""
    to_topic_p99_ms: float | None = None
    triage_p99_ms: float | None = None
    notify_p99_ms: float | None = None


def _mixed_offer(escalating_every: int) -> Iterator[dict[str, Any]]:
    """One escalating tip in a fresh covered village every ``escalating_every`` events; routine ones between."""
    fresh, routine = iter(events.covered_villages()), _villages_forever()
    i = 0
    while True:
        i += 1
        yield events.escalating_tip(next(fresh)) if i % escalating_every == 0 else events.routine_tip(next(routine))


def end_to_end(
    base: str, bootstrap: str, record: Path, *, rate: float, seconds: float, escalating_every: int, progress: Progress
) -> Latency:
    """Offer ``rate`` events/s for ``seconds``; latency from POST to the first webhook for its village."""
    start = time.monotonic()

    def until() -> bool:
        progress(int(time.monotonic() - start))
        return time.monotonic() - start > seconds

    sent = asyncio.run(at_rate(base, _mixed_offer(escalating_every), rate, until=until, concurrency=256))
    escalating = {s.desa_code: s for s in sent if s.status == 202 and s.answer == "accepted" and _covered(s)}
    arrivals = _settle(record, set(escalating), timeout=60.0)
    latencies = sorted((arrivals[d][0] - s.t_sent) * 1000 for d, s in escalating.items() if d in arrivals)
    created = {d: a[1] for d, a in arrivals.items() if a[1] is not None}
    emitted = _first_escalations(bootstrap, set(created))
    to_topic = [(created[d] - s.t_sent) * 1000 for d, s in escalating.items() if d in created]
    in_triage = [(emitted[d] - created[d]) * 1000 for d in created if d in emitted]
    in_notify = [(arrivals[d][0] - emitted[d]) * 1000 for d in emitted]
    answered: dict[int, int] = {}
    for s in sent:
        answered[s.status] = answered.get(s.status, 0) + 1
    return Latency(
        offered_eps=rate,
        seconds=seconds,
        escalating_share=1 / escalating_every,
        p50_ms=statistics.median(latencies) if latencies else None,
        p99_ms=_percentile(latencies, 0.99),
        max_ms=latencies[-1] if latencies else None,
        measured=len(latencies),
        undelivered=len(escalating) - len(latencies),
        answered=answered,
        to_topic_p50_ms=statistics.median(to_topic) if to_topic else None,
        triage_p50_ms=statistics.median(in_triage) if in_triage else None,
        notify_p50_ms=statistics.median(in_notify) if in_notify else None,
        to_topic_p99_ms=_percentile(sorted(to_topic), 0.99),
        triage_p99_ms=_percentile(sorted(in_triage), 0.99),
        notify_p99_ms=_percentile(sorted(in_notify), 0.99),
    )


def _first_escalations(bootstrap: str, villages: set[str]) -> dict[str, float]:
    """The Kafka timestamp (s) of each village's first escalation record: when triage produced it."""
    first: dict[str, float] = {}
    for escalation in asyncio.run(read_all(bootstrap, Topics.ESCALATIONS)):
        code = (escalation.key or b"").decode()
        if code in villages:
            first[code] = min(first.get(code, float("inf")), escalation.timestamp / 1000)
    return first


_COVERED: set[str] = set()


def _covered(sent: Sent) -> bool:
    if not _COVERED:
        _COVERED.update(events.covered_villages())
    return sent.desa_code in _COVERED


def _settle(record: Path, villages: set[str], timeout: float) -> dict[str, tuple[float, float | None]]:
    """(first 2xx arrival, escalation created_at) per village, waiting up to ``timeout`` s for all of them."""
    deadline = time.monotonic() + timeout
    while True:
        first: dict[str, tuple[float, float | None]] = {}
        for row in read_record(record):
            code = row["desa_code"]
            if 200 <= row["status"] < 300 and code in villages and row["t"] < first.get(code, (float("inf"),))[0]:
                created = row.get("created_at")
                first[code] = (row["t"], datetime.fromisoformat(created).timestamp() if created else None)
        if len(first) >= len(villages) or time.monotonic() > deadline:
            return first
        time.sleep(0.5)


def _percentile(sorted_values: list[float], q: float) -> float | None:
    if not sorted_values:
        return None
    index = min(len(sorted_values) - 1, max(0, round(q * len(sorted_values)) - 1))
    return sorted_values[index]


Counter = Callable[[], int]
