"""Stacks for the bench, the soak and the fault drills: devstack's Stack plus a recording receiver.

Each gets its own channel registry (one bench channel, every type, every region, no rate limit:
a load test must measure the service, not the demo channels' rate limits) and a copy of the
shipped directory whose webhook endpoints point at the receiver.
"""

import hashlib
import sys
from pathlib import Path

import yaml

from devstack import infra
from devstack.processes import Managed, free_port, port_open, run_to_end
from devstack.stack import Broker, Stack, http_ok
from schemas.topics import Topics
from services.common.kafka import ensure_topics, wait_for_kafka
from services.common.settings import CONFIG_DIR, REPO_ROOT

BENCH_TOKEN = "bench-load-channel-token-not-for-production"
SHIPPED_SINK = "http://127.0.0.1:8099"
PIPELINE = ("notify", "triage", "ingest")


def write_channels(workdir: Path) -> Path:
    """A registry with the one bench channel."""
    path = workdir / "channels.yaml"
    channel = {
        "id": "bench-load",
        "token_sha256": hashlib.sha256(BENCH_TOKEN.encode()).hexdigest(),
        "allowed_types": ["tip", "departure_anomaly", "recruiter_sighting"],
        "allowed_regions": ["*"],
    }
    path.write_text(yaml.safe_dump({"channels": [channel]}), encoding="utf-8")
    return path


def write_directory(workdir: Path, receiver_url: str) -> Path:
    """The shipped directory with every webhook pointed at ``receiver_url``."""
    path = workdir / "directory.yaml"
    text = (CONFIG_DIR / "directory.yaml").read_text(encoding="utf-8")
    path.write_text(text.replace(SHIPPED_SINK, receiver_url), encoding="utf-8")
    return path


def new_stack(workdir: Path, broker: Broker = "embedded") -> Stack:
    """A Stack on free ports with the bench channel registry (nothing started yet)."""
    workdir.mkdir(parents=True, exist_ok=True)
    stack = Stack(workdir=workdir, broker=broker)
    stack.channels = write_channels(workdir)
    return stack


def start_infra(stack: Stack, *, s3: bool = False) -> None:
    """Broker and Valkey; with ``s3`` the embedded broker keeps its log in a moto S3 server (survives SIGKILL)."""
    if s3 and stack.broker != "embedded":
        raise ValueError("s3 is the embedded broker's storage engine; Apache Kafka keeps its log on disk")
    if s3:
        start_s3_broker(stack)
    else:
        stack.start_broker()
    stack.start_valkey()


def start_s3_broker(stack: Stack) -> None:
    """moto's S3 server, a bucket, and Tansu with ``--storage-engine s3://…`` against it."""
    s3_port, broker_port = free_port(), free_port()
    s3 = infra.moto_s3(s3_port, log=stack.workdir / "s3.log").start()
    stack.processes["s3"] = s3
    s3.wait_until(lambda: port_open(s3_port))
    endpoint = f"http://127.0.0.1:{s3_port}"
    infra.create_bucket(endpoint)
    broker = infra.broker(
        broker_port,
        log=stack.workdir / "broker.log",
        storage=f"s3://{infra.S3_BUCKET}/",
        env=infra.s3_env(endpoint),
    ).start()
    stack.processes["broker"] = broker
    stack.ports["broker"] = broker_port
    broker.wait_until(lambda: port_open(broker_port))
    stack.kafka_bootstrap = f"127.0.0.1:{broker_port}"
    bootstrap = stack.kafka_bootstrap
    run_to_end(lambda: create_topics(bootstrap))


async def create_topics(bootstrap: str) -> None:
    await wait_for_kafka(bootstrap)
    await ensure_topics(bootstrap, Topics.ALL)


def start_receiver(stack: Stack, *, delay_ms: float = 0.0) -> Path:
    """The recording receiver on a free port; the directory is rewritten to point at it. Returns its record."""
    port = free_port()
    record = stack.workdir / "received.jsonl"
    argv = [sys.executable, "-m", "bench.receiver", "--port", str(port), "--out", str(record)]
    if delay_ms:
        argv += ["--delay-ms", str(delay_ms)]
    proc = Managed("receiver", argv, log=stack.workdir / "receiver.log", cwd=REPO_ROOT).start()
    stack.processes["receiver"] = proc
    stack.ports["receiver"] = port
    proc.wait_until(lambda: http_ok(stack.url("receiver") + "/received"))
    stack.directory = write_directory(stack.workdir, stack.url("receiver"))
    return record


def start_services(stack: Stack, names: tuple[str, ...] = PIPELINE, *, replicas: int = 1) -> None:
    """Start the named services (notify, triage, ingest by default), ``replicas`` of each, and wait until each
    is healthy (the second of a service is ``<name>-2``: ``Stack.start_service``)."""
    for name in names:
        for replica in range(1, replicas + 1):
            stack.start_service(name, replica=replica)


def ingest_urls(stack: Stack) -> list[str]:
    """The URLs of every ingest replica of ``stack`` (``ingest``, ``ingest-2``, …), for a balanced load."""
    return [stack.url(name) for name in stack.ports if name == "ingest" or name.startswith("ingest-")]


def start_pipeline(
    workdir: Path,
    *,
    s3: bool = False,
    receiver_delay_ms: float = 0.0,
    broker: Broker = "embedded",
    env: dict[str, str] | None = None,
    replicas: int = 1,
) -> tuple[Stack, Path]:
    """Broker, Valkey, receiver, notify, triage and ingest (``replicas`` of each, with ``env`` added to their
    environment); returns the stack and the receiver's record."""
    stack = new_stack(workdir, broker)
    stack.extra_env.update(env or {})
    try:
        start_infra(stack, s3=s3)
        record = start_receiver(stack, delay_ms=receiver_delay_ms)
        start_services(stack, replicas=replicas)
        warm_up(stack, record)
    except BaseException:
        stack.stop()
        raise
    return stack, record


def warm_up(stack: Stack, record: Path, timeout: float = 60.0) -> float:
    """POST one escalating tip and wait for its webhook: every consumer group has joined. Returns seconds taken."""
    import json
    import time
    import urllib.request

    from bench import events
    from bench.receiver import read_record

    village = events.covered_villages()[-1]  # loads take villages from the front
    body = json.dumps(events.escalating_tip(village)).encode()
    headers = {"Authorization": f"Bearer {BENCH_TOKEN}", "Content-Type": "application/json"}
    request = urllib.request.Request(stack.url("ingest") + "/v1/tips", data=body, headers=headers, method="POST")
    start = time.monotonic()
    with urllib.request.urlopen(request, timeout=15) as response:
        assert response.status == 202, f"warm-up tip answered {response.status}"
    while time.monotonic() - start < timeout:
        if any(r["desa_code"] == village and r["status"] == 200 for r in read_record(record)):
            return time.monotonic() - start
        time.sleep(0.2)
    raise RuntimeError(f"warm-up: no webhook for the first tip within {timeout:.0f} s; logs in {stack.workdir}")


def restart(stack: Stack, name: str, *, kill: bool = False, down_for: float = 0.0) -> None:
    """Restart one process of the stack in place (same port, same data) and wait until it serves again."""
    proc = stack.processes[name].restart(kill=kill, down_for=down_for)
    if name.startswith("broker"):
        proc.wait_until(stack.broker_ready, timeout=90)
    elif name == "valkey":
        proc.wait_until(lambda: infra.valkey_ready(stack.ports["valkey"]))
    elif name == "receiver":
        proc.wait_until(lambda: http_ok(stack.url("receiver") + "/received"))
    elif name == "s3":
        raise ValueError("the S3 server keeps its objects in memory: restarting it would lose the broker's log")
    else:
        stack.wait_healthy(name)
