"""Load generators: POSTs to ingest at a steady offered rate, or as fast as N in flight allow.

The generator runs on the same 2 cores as the services it measures; every figure says so.
aiohttp is the client because it costs the least CPU per request of the asyncio HTTP clients,
which leaves more of those cores to the services.
"""

import asyncio
import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bench.stacks import BENCH_TOKEN

PATHS = {
    "tip": "/v1/tips",
    "departure_anomaly": "/v1/departure-anomalies",
    "recruiter_sighting": "/v1/recruiter-sightings",
}
HEADERS = {"Authorization": f"Bearer {BENCH_TOKEN}", "Content-Type": "application/json"}


@dataclass
class Sent:
    """One POST and its answer; ``status`` 0 means the connection failed."""

    event_id: str
    desa_code: str
    t_sent: float
    t_answered: float
    status: int
    answer: str = ""


def session(limit: int) -> aiohttp.ClientSession:
    """Keep-alive connections, at most ``limit`` of them."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=limit, force_close=False),
        timeout=aiohttp.ClientTimeout(total=30),
    )


async def post_event(client: aiohttp.ClientSession, base: str, body: dict[str, Any]) -> Sent:
    """POST one event to its single-event endpoint; wall-clock times, comparable to the receiver's."""
    sent = time.time()
    try:
        async with client.post(base + PATHS[body["type"]], json=body, headers=HEADERS) as response:
            status, text = response.status, await response.text()
    except (aiohttp.ClientError, TimeoutError):
        return Sent(body["event_id"], body["desa_code"], sent, time.time(), 0)
    return Sent(body["event_id"], body["desa_code"], sent, time.time(), status, _status_word(text))


def _status_word(text: str) -> str:
    """``accepted``/``duplicate`` from a 202 body; empty for anything else."""
    try:
        payload = json.loads(text)
    except ValueError:
        return ""
    return str(payload.get("status", "")) if isinstance(payload, dict) else ""


async def post_balanced(client: aiohttp.ClientSession, bases: Sequence[str], i: int, body: dict[str, Any]) -> Sent:
    """POST to ``bases[i % n]``; when the connection fails, once more to the next one, as a load balancer does.

    The same body (the same ``event_id``) goes again: ingest's idempotency answers ``duplicate`` if the
    replica that died had published it after all.
    """
    sent = await post_event(client, bases[i % len(bases)], body)
    if sent.status == 0 and len(bases) > 1:
        again = await post_event(client, bases[(i + 1) % len(bases)], body)
        sent = Sent(again.event_id, again.desa_code, sent.t_sent, again.t_answered, again.status, again.answer)
    return sent


async def at_rate(
    base: str | Sequence[str],
    bodies: Iterator[dict[str, Any]],
    rate: float,
    *,
    until: Callable[[], bool],
    concurrency: int = 64,
    on_sent: Callable[[Sent], None] | None = None,
) -> list[Sent]:
    """Offer ``rate`` events/s (open loop, at most ``concurrency`` in flight) until ``until()`` or bodies run out.

    Open loop: a slow answer does not slow the offer down, so queueing shows up as latency. Several
    ``base`` URLs (ingest replicas) take the events in turn (``post_balanced``). The first body is built
    before the clock starts: building it loads what every later one shares (the first body sorted ~80,000
    region codes, 0.63 s), and a schedule fixed before it would send the events due meanwhile as one burst
    at t=0, so the run's p99 was that burst's latency.
    """
    bases = [base] if isinstance(base, str) else list(base)
    first = next(bodies, None)
    if first is None:
        return []
    bodies = itertools.chain([first], bodies)
    results: list[Sent] = []
    gate = asyncio.Semaphore(concurrency)
    tasks: set[asyncio.Task[None]] = set()
    async with session(concurrency) as client:

        async def one(i: int, body: dict[str, Any]) -> None:
            try:
                sent = await post_balanced(client, bases, i, body)
                results.append(sent)
                if on_sent:
                    on_sent(sent)
            finally:
                gate.release()

        start = time.monotonic()
        for i, body in enumerate(bodies):
            if until():
                break
            await asyncio.sleep(max(0.0, start + i / rate - time.monotonic()))
            await gate.acquire()
            task = asyncio.create_task(one(i, body))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        if tasks:
            await asyncio.gather(*tasks)
    return results


async def flat_out(base: str, bodies: list[dict[str, Any]], concurrency: int) -> tuple[list[Sent], float]:
    """POST every body with ``concurrency`` requests in flight; returns the answers and the elapsed time."""
    queue = iter(bodies)
    results: list[Sent] = []
    async with session(concurrency) as client:

        async def worker() -> None:
            for body in queue:
                results.append(await post_event(client, base, body))

        start = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return results, time.monotonic() - start


@dataclass
class BackgroundLoad:
    """``at_rate`` in a thread of its own, for drills and the soak: start it, break things, stop it."""

    base: str | Sequence[str]
    """ingest's URL, or the URLs of its replicas (taken in turn, failing over as a load balancer would)."""
    bodies: Iterator[dict[str, Any]]
    rate: float
    concurrency: int = 32
    results: list[Sent] = field(default_factory=list)
    _seen: list[Sent] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> "BackgroundLoad":
        def run() -> None:
            self.results = asyncio.run(
                at_rate(
                    self.base,
                    self.bodies,
                    self.rate,
                    until=self._stop.is_set,
                    concurrency=self.concurrency,
                    on_sent=self._seen.append,
                )
            )

        self._thread = threading.Thread(target=run, name="load", daemon=True)
        self._thread.start()
        return self

    def so_far(self) -> list[Sent]:
        """Answers received until now (while running)."""
        return list(self._seen)

    def stop(self) -> list[Sent]:
        """Stop offering, wait for the requests in flight, return every answer."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(60)
        return self.results
