"""Load generator for ingest's throughput figures (``make bench`` imports it; not run by pytest).

The client is a few lines of raw HTTP/1.1 over asyncio streams with keep-alive connections and
pre-serialised requests, so that the load generator itself costs little CPU on the same 2-core
machine as the service it measures (httpx would cost more per request than ingest does).

Entry points for ``bench/``::

    token = write_bench_channels(path)            # a registry with one unthrottled channel
    eps = await measure_single(url, token, n)     # accepted events/s over POST /v1/tips
    eps = await measure_batch(url, token, n)      # accepted events/s over POST /v1/events:batch
    eps = await measure_raw_produce(bootstrap, n) # aiokafka produce (acks=all) to the same broker

``python -m bench.ingest_load`` starts a stack of its own and prints all three.
"""

import asyncio
import hashlib
import random
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson

BENCH_TOKEN = "waspada-bench-token-not-secret"
VILLAGES = ("36.04.13.2007", "62.71.01.1003", "32.01.01.1001", "36.04.13.2001")


@dataclass
class LoadResult:
    """What one load run saw: accepted events per second and every answer by status."""

    events: int
    seconds: float
    statuses: Counter[str] = field(default_factory=Counter)

    @property
    def eps(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0


def write_bench_channels(path: Path, token: str = BENCH_TOKEN) -> str:
    """Write a channel registry with one channel that may send everything, without a rate limit."""
    digest = hashlib.sha256(token.encode()).hexdigest()
    path.write_text(
        "channels:\n"
        "  - id: bench\n"
        f"    token_sha256: {digest}\n"
        "    allowed_types: [tip, departure_anomaly, recruiter_sighting]\n"
        '    allowed_regions: ["*"]\n',
        encoding="utf-8",
    )
    return token


def tip_body(index: int) -> dict[str, Any]:
    """A valid tip with a fresh event id and a reporter phone (so pseudonymisation is measured too)."""
    return {
        "type": "tip",
        "event_id": str(uuid.uuid4()),
        "occurred_at": (datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
        "desa_code": VILLAGES[index % len(VILLAGES)],
        "category": random.choice(("online_scam_job", "recruitment_offer", "other")),
        "persons_involved": 1 + index % 5,
        "minors_involved": index % 7 == 0,
        "destination_country": "KH",
        "description": "Tawaran kerja admin di luar negeri tanpa syarat",
        "reporter": {"phone": f"0812{index:08d}"},
    }


def _request(host: str, path: str, token: str, body: bytes) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return status, await reader.readexactly(length)


async def _connection(
    host: str, port: int, requests: Sequence[bytes], statuses: Counter[str], stop_at: float | None = None
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        for request in requests:
            if stop_at is not None and time.perf_counter() >= stop_at:
                return
            writer.write(request)
            status, body = await _read_response(reader)
            if status == 202 and body.startswith(b'{"results"'):
                for item in orjson.loads(body)["results"]:
                    statuses[item["status"]] += 1
            else:
                statuses[str(status) if status != 202 else orjson.loads(body)["status"]] += 1
    finally:
        writer.close()


async def run_load(
    url: str, path: str, token: str, bodies: Sequence[bytes], concurrency: int, seconds: float | None = None
) -> tuple[float, Counter[str]]:
    """POST the bodies over ``concurrency`` keep-alive connections, one request in flight on each, for at
    most ``seconds`` when given; (seconds taken, answers by status word or HTTP status)."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    requests = [_request(f"{host}:{port}", path, token, body) for body in bodies]
    statuses: Counter[str] = Counter()
    slices = [requests[i::concurrency] for i in range(concurrency)]
    started = time.perf_counter()
    stop_at = started + seconds if seconds is not None else None
    await asyncio.gather(*(_connection(host, port, s, statuses, stop_at) for s in slices if s))
    return time.perf_counter() - started, statuses


async def run_single(url: str, token: str, n: int = 20_000, concurrency: int = 64) -> LoadResult:
    """``n`` tips, one per request."""
    bodies = [orjson.dumps(tip_body(i)) for i in range(n)]
    seconds, statuses = await run_load(url, "/v1/tips", token, bodies, concurrency)
    return LoadResult(events=statuses["accepted"], seconds=seconds, statuses=statuses)


async def run_batch(url: str, token: str, n: int = 100_000, batch_size: int = 1000, concurrency: int = 4) -> LoadResult:
    """``n`` tips in batches of ``batch_size``."""
    bodies = [
        orjson.dumps({"events": [tip_body(i) for i in range(start, min(start + batch_size, n))]})
        for start in range(0, n, batch_size)
    ]
    seconds, statuses = await run_load(url, "/v1/events:batch", token, bodies, concurrency)
    return LoadResult(events=statuses["accepted"], seconds=seconds, statuses=statuses)


def _checked(result: LoadResult, n: int) -> float:
    if result.events != n:
        raise RuntimeError(f"only {result.events} of {n} events were accepted: {dict(result.statuses)}")
    return result.eps


async def measure_single(url: str, token: str, n: int = 20_000, concurrency: int = 64) -> float:
    """Accepted events/s over ``POST /v1/tips``; RuntimeError unless every event was accepted."""
    return _checked(await run_single(url, token, n, concurrency), n)


async def measure_batch(url: str, token: str, n: int = 100_000, batch_size: int = 1000, concurrency: int = 4) -> float:
    """Accepted events/s over ``POST /v1/events:batch``; RuntimeError unless every event was accepted."""
    return _checked(await run_batch(url, token, n, batch_size, concurrency), n)


async def measure_raw_produce(bootstrap: str, n: int = 100_000, topic: str = "waspada.bench.raw") -> float:
    """Messages/s of a bare aiokafka producer (acks=all) sending tip-sized messages, all awaited."""
    from services.common.kafka import ensure_topics, make_producer

    await ensure_topics(bootstrap, [topic])
    producer = make_producer(bootstrap, idempotent=False)  # the raw figures: the same client on both brokers
    await producer.start()
    try:
        value = orjson.dumps(tip_body(0))
        started = time.perf_counter()
        futures = [await producer.send(topic, value=value, key=VILLAGES[i % 4].encode()) for i in range(n)]
        await asyncio.gather(*futures)
        return n / (time.perf_counter() - started)
    finally:
        await producer.stop()


def main() -> None:
    """Start a stack of its own (broker, Valkey, ingest) and print the figures."""
    import tempfile

    from devstack.stack import Stack

    stack = Stack(workdir=Path(tempfile.mkdtemp(prefix="waspada-load-")))
    token = write_bench_channels(stack.workdir / "channels.yaml")
    stack.channels = stack.workdir / "channels.yaml"
    try:
        stack.start_broker()
        stack.start_valkey()
        stack.start_service("ingest")
        url = stack.url("ingest")
        assert stack.kafka_bootstrap is not None
        asyncio.run(run_single(url, token, 2000))  # warm-up
        single = asyncio.run(run_single(url, token))
        batch = asyncio.run(run_batch(url, token))
        raw = asyncio.run(measure_raw_produce(stack.kafka_bootstrap))
        print(f"ingest_single_eps {single.eps:8.0f}  {dict(single.statuses)}")
        print(f"ingest_batch_eps  {batch.eps:8.0f}  {dict(batch.statuses)}")
        print(f"raw_produce_eps   {raw:8.0f}  batch/raw = {batch.eps / raw:.0%}")
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
