"""Throughput of one triage worker against a bare Faust agent, on the same messages (``make bench``).

Both run as worker subprocesses with a fresh consumer group against messages already on the input
topics, and are timed from the first processed message to the last (group join and start-up are
not measured). ``ensure_messages`` produces realistic events once; the second measurement of a run
reads the very same records.

    from bench.triage_load import measure_triage_eps, measure_bare_faust_eps
    triage = measure_triage_eps("127.0.0.1:9092", 20_000)
    bare = measure_bare_faust_eps("127.0.0.1:9092", 20_000)
"""

import asyncio
import json
import os
import random
import re
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from schemas.regions import region_table
from schemas.topics import Topics
from services.common.kafka import ensure_topics
from services.common.settings import REPO_ROOT

BENCH_KEY = "waspada-bench-pseudonym-key-not-for-production"
_COUNT = re.compile(r"^waspada_triage_events_total\{[^}]*\} ([0-9.e+]+)$", re.MULTILINE)


def bench_events(n: int, seed: int = 7) -> list[dict[str, Any]]:
    """``n`` realistic events over 500 villages of Banten: tips, departures, sightings, 5 % repeats."""
    rng = random.Random(seed)
    villages = region_table().villages_under("36")[:500]
    start = datetime.now(UTC) - timedelta(days=20)
    events: list[dict[str, Any]] = []
    for i in range(n):
        if events and rng.random() < 0.05:
            events.append(rng.choice(events))  # the same event_id again (another path)
            continue
        base = {
            "event_id": str(uuid.UUID(int=rng.getrandbits(128))),
            "occurred_at": (start + timedelta(seconds=i * 60)).isoformat(),
            "desa_code": rng.choice(villages),
            "description": f"Laporan {i}: tawaran kerja ke luar negeri, gaji {rng.randint(5, 20)} juta per bulan",
        }
        events.append({**base, **_body(rng, i)})
    return events


def _body(rng: random.Random, i: int) -> dict[str, Any]:
    kind = rng.random()
    if kind < 0.5:
        category = rng.choice(["other", "recruitment_offer", "online_scam_job", "suspicious_departure"])
        country = rng.choice([None, "MY", "KH", "SA"])
        return {"type": "tip", "category": category, "persons_involved": rng.randint(1, 6),
                "minors_involved": rng.random() < 0.03, "destination_country": country}  # fmt: skip
    if kind < 0.8:
        indicators = rng.sample(["one_way_ticket", "sponsor_accompanied", "no_epmi", "inconsistent_story"], 2)
        return {"type": "departure_anomaly", "checkpoint": "TPI-SOETTA", "traveller": f"psn_{i:032x}",
                "age": rng.randint(16, 45), "sex": rng.choice("FM"), "declared_purpose": "tourism",
                "destination_country": "MY", "indicators": indicators, "action": "delayed"}  # fmt: skip
    return {"type": "recruiter_sighting", "recruiter": f"psn_{rng.randint(1, 300):032x}",
            "activity": ["door_to_door"], "persons_approached": rng.randint(0, 5)}  # fmt: skip


async def _end_offsets(bootstrap: str) -> int:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        await consumer.topics()
        partitions = [TopicPartition(t, p) for t in Topics.INPUTS for p in consumer.partitions_for_topic(t) or set()]
        return sum((await consumer.end_offsets(partitions)).values())
    finally:
        await consumer.stop()


async def _produce(bootstrap: str, events: list[dict[str, Any]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=20, max_batch_size=256 * 1024)
    await producer.start()
    try:
        futures = [
            await producer.send(
                Topics.BY_EVENT_TYPE[e["type"]],
                value=json.dumps(e).encode(),
                key=e["desa_code"].encode(),
                headers=[("waspada-channel", b"bench")],
            )
            for e in events
        ]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


def ensure_messages(bootstrap: str, n: int) -> int:
    """At least ``n`` messages on the input topics (produced once per run); returns how many there are."""

    async def run() -> int:
        await ensure_topics(bootstrap, Topics.ALL)
        present = await _end_offsets(bootstrap)
        if present < n:
            await _produce(bootstrap, bench_events(n - present, seed=present))
        return await _end_offsets(bootstrap)

    return asyncio.run(run())


def _get(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return str(response.read().decode())
    except OSError:
        return None


def _triage_count(port: int) -> int | None:
    text = _get(f"http://127.0.0.1:{port}/metrics")
    return None if text is None else int(sum(float(v) for v in _COUNT.findall(text)))


def _bare_count(port: int) -> int | None:
    text = _get(f"http://127.0.0.1:{port}/count")
    return None if text is None else int(json.loads(text)["count"])


def _run_worker(module: str, bootstrap: str, target: int, count: Callable[[int], int | None], timeout: float) -> float:
    """Start ``python -m module``, time it from its first processed message to ``target``; events/s."""
    from devstack.processes import Managed, free_port

    port = free_port()
    workdir = tempfile.mkdtemp(prefix="waspada-bench-")
    env = {
        **os.environ,
        "WASPADA_KAFKA_BOOTSTRAP": bootstrap,
        "WASPADA_TRIAGE_APP_ID": f"bench-{module.rsplit('.', 1)[-1]}-{uuid.uuid4().hex[:8]}",
        "WASPADA_TRIAGE_PORT": str(port),
        "WASPADA_TRIAGE_DATA_DIR": workdir,
        "WASPADA_PSEUDONYM_KEY": os.environ.get("WASPADA_PSEUDONYM_KEY", BENCH_KEY),
        "WASPADA_LOG_LEVEL": "WARNING",
        # any broker: the embedded one has no idempotent producer (set it to true for Apache Kafka)
        "WASPADA_KAFKA_IDEMPOTENT_PRODUCER": os.environ.get("WASPADA_KAFKA_IDEMPOTENT_PRODUCER", "false"),
    }
    worker = Managed(module, [sys.executable, "-m", module], env=env, log=Path(workdir) / "worker.log", cwd=REPO_ROOT)
    worker.start()
    try:
        return _time_until(worker, port, target, count, timeout)
    finally:
        worker.stop()


def _time_until(worker: Any, port: int, target: int, count: Callable[[int], int | None], timeout: float) -> float:
    deadline = time.monotonic() + timeout
    first: tuple[float, int] | None = None
    while time.monotonic() < deadline:
        if not worker.alive():
            raise RuntimeError(f"{worker.name} exited before it finished the benchmark messages")
        done = count(port) or 0
        now = time.monotonic()
        if first is None and done > 0:
            first = (now, done)
        if first is not None and done >= target:
            elapsed = now - first[0]
            return (done - first[1]) / elapsed if elapsed > 0 else float(done)
        time.sleep(0.2)
    raise TimeoutError(f"{worker.name} did not process {target} messages within {timeout:.0f} s")


def measure_triage_eps(bootstrap: str, n: int, timeout: float = 300.0) -> float:
    """Events per second of one triage worker over (at least) ``n`` messages on the input topics."""
    target = ensure_messages(bootstrap, n)
    return _run_worker("services.triage", bootstrap, target, _triage_count, timeout)


def measure_bare_faust_eps(bootstrap: str, n: int, timeout: float = 300.0) -> float:
    """Events per second of a bare Faust agent over the same messages."""
    target = ensure_messages(bootstrap, n)
    return _run_worker("services.triage.bare", bootstrap, target, _bare_count, timeout)


def main() -> None:
    """``python -m bench.triage_load BOOTSTRAP [N]``: both figures and their ratio, as JSON."""
    bootstrap, n = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 20_000
    bare = measure_bare_faust_eps(bootstrap, n)
    triage = measure_triage_eps(bootstrap, n)
    print(json.dumps({"triage_eps": round(triage), "bare_faust_eps": round(bare), "ratio": round(triage / bare, 3)}))


if __name__ == "__main__":
    main()
