"""A real Prometheus server (Debian's `prometheus`) scraping a stack every second, for the tests."""

import json
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import yaml

from devstack.processes import Managed, free_port
from devstack.stack import Stack, http_ok
from services.common.settings import REPO_ROOT

RULES = REPO_ROOT / "deploy" / "prometheus" / "rules"
SERVICES = ("ingest", "triage", "notify")


def config(stack: Stack) -> dict[str, Any]:
    """deploy/prometheus/prometheus.yml's jobs and rules, pointed at this stack, every second."""
    return {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(RULES / "*.yml")],
        "scrape_configs": [
            {"job_name": f"waspada-{name}", "static_configs": [{"targets": [f"127.0.0.1:{stack.ports[name]}"]}]}
            for name in SERVICES
        ],
    }


class PrometheusServer:
    """One Prometheus process on a free port with a throwaway TSDB."""

    def __init__(self, binary: str, workdir: Path, stack: Stack) -> None:
        self.port = free_port()
        workdir.mkdir(parents=True, exist_ok=True)
        config_file = workdir / "prometheus.yml"
        config_file.write_text(yaml.safe_dump(config(stack)), encoding="utf-8")
        argv = [
            binary,
            f"--config.file={config_file}",
            f"--storage.tsdb.path={workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{self.port}",
            "--log.level=warn",
        ]
        self.process = Managed("prometheus", argv, log=workdir / "prometheus.log", cwd=workdir)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "PrometheusServer":
        self.process.start()
        self.process.wait_until(lambda: http_ok(self.url + "/-/ready"), timeout=30)
        return self

    def stop(self) -> None:
        self.process.stop()

    def api(self, path: str, **params: str) -> Any:
        """GET /api/v1/<path>; the ``data`` member of a successful answer (AssertionError otherwise)."""
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        try:
            with urllib.request.urlopen(f"{self.url}/api/v1/{path}{query}", timeout=10) as response:
                body = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            body = json.loads(exc.read())
        assert body["status"] == "success", f"{path} {params}: {body.get('errorType')}: {body.get('error')}"
        return body["data"]

    def query(self, promql: str) -> list[dict[str, Any]]:
        """An instant query; its result vector."""
        data = self.api("query", query=promql)
        assert data["resultType"] == "vector", data
        result: list[dict[str, Any]] = data["result"]
        return result

    def scalar(self, promql: str) -> float | None:
        """The value of a query that returns one series, or None when it returns none."""
        result = self.query(promql)
        assert len(result) <= 1, f"{promql} returned {len(result)} series"
        return float(result[0]["value"][1]) if result else None
