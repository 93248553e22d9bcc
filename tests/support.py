"""Helpers the tests share: stacks on free ports, HTTP calls, waiting for a condition."""

import json
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from devstack.demo_tokens import CHANNEL_TOKENS
from devstack.stack import Stack
from services.common.settings import CONFIG_DIR
from tests.factories import tip

T = TypeVar("T")
__all__ = [
    "CHECKPOINT_TOKEN",
    "VILLAGE_TOKEN",
    "directory_for_sink",
    "healthz",
    "http",
    "start_pipeline",
    "tip",
    "wait_for",
]


def directory_for_sink(workdir: Path, sink_url: str, source: Path = CONFIG_DIR / "directory.yaml") -> Path:
    """A copy of the directory whose webhook endpoints point at a sink on another port."""
    path = workdir / "directory.yaml"
    path.write_text(source.read_text(encoding="utf-8").replace("http://127.0.0.1:8099", sink_url), encoding="utf-8")
    return path


def start_pipeline(stack: Stack, services: tuple[str, ...] = ("sink", "notify", "triage", "ingest")) -> Stack:
    """Start the sink first (its port goes into the directory), then the services."""
    from devstack.processes import free_port

    sink_port = free_port()
    stack.directory = directory_for_sink(stack.workdir, f"http://127.0.0.1:{sink_port}")
    for name in services:
        stack.start_service(name, sink_port if name == "sink" else None)
    return stack


def wait_for(
    condition: Callable[[], T | None], timeout: float = 60.0, interval: float = 0.25, what: str = "condition"
) -> T:
    """Poll until ``condition`` returns something truthy; AssertionError naming ``what`` on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def http(
    method: str, url: str, body: Any = None, token: str | None = None, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    """A JSON request; returns (status, parsed body or raw text)."""
    data = json.dumps(body).encode() if body is not None else None
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    if token:
        all_headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=data, method=method, headers=all_headers)
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            raw = response.read()
            status = int(response.status)
    except urllib.error.HTTPError as exc:
        raw, status = exc.read(), exc.code
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode(errors="replace")


def healthz(stack: Stack, service: str) -> str:
    """What ``service`` answers on ``/healthz`` (its body whatever the status), or why it did not answer."""
    try:
        status, body = http("GET", stack.url(service) + "/healthz")
    except OSError as error:
        return f"no answer: {error}"
    return f"{status} {json.dumps(body) if isinstance(body, dict) else body}"


VILLAGE_TOKEN = CHANNEL_TOKENS["demo-village"]
CHECKPOINT_TOKEN = CHANNEL_TOKENS["demo-checkpoint"]
