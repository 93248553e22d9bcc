"""The probe paths of the Kubernetes manifests and the image's health check, tried on real services."""

import os
import subprocess
import sys
from typing import Any

import pytest

from devstack.processes import free_port
from devstack.stack import Stack, http_ok
from services.common.settings import REPO_ROOT
from tests.deploy.prometheus_server import PrometheusServer

pytestmark = [pytest.mark.integration, pytest.mark.broker("kafka")]
HEALTHCHECK = REPO_ROOT / "deploy" / "docker" / "healthcheck.py"


def test_every_probe_path_of_the_manifests_answers_on_the_running_service(
    observed: tuple[Stack, PrometheusServer], prod_manifests: list[dict[str, Any]]
) -> None:
    stack = observed[0]
    probed = 0
    for doc in prod_manifests:
        if doc["kind"] not in {"Deployment", "StatefulSet"}:
            continue
        for container in doc["spec"]["template"]["spec"]["containers"]:
            for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                if probe in container:
                    path = container[probe]["httpGet"]["path"]
                    assert http_ok(stack.url(container["name"]) + path), f"{container['name']} {probe} {path}"
                    probed += 1
    assert probed >= 7


def _healthcheck(**ports: int) -> int:
    env = {**os.environ, **{f"WASPADA_{name.upper()}_PORT": str(port) for name, port in ports.items()}}
    return subprocess.run([sys.executable, str(HEALTHCHECK)], env=env, timeout=30, check=False).returncode


def test_image_healthcheck_passes_on_the_service_it_runs_and_fails_without_one(
    observed: tuple[Stack, PrometheusServer],
) -> None:
    stack = observed[0]
    nothing = free_port()
    for name in ("ingest", "triage", "notify"):
        others = {other: nothing for other in ("ingest", "triage", "notify") if other != name}
        assert _healthcheck(**{name: stack.ports[name]}, **others) == 0, name
    assert _healthcheck(ingest=nothing, triage=nothing, notify=nothing) == 1
