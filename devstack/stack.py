"""Starting and stopping the whole embedded stack, for ``make run`` and for the test suite."""

import asyncio
import os
import sys
import tempfile
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from devstack import infra
from devstack.processes import Managed, free_port, port_open
from schemas.topics import Topics
from services.common.kafka import ensure_topics, wait_for_kafka
from services.common.settings import CONFIG_DIR, REPO_ROOT

DEV_PSEUDONYM_KEY = "waspada-dev-only-pseudonym-key-not-for-production"


def _pick(preferred: int | None) -> int:
    """``preferred`` when it is free, else any free port."""
    return preferred if preferred and not port_open(preferred) else free_port()


def http_ok(url: str) -> bool:
    """True when GET ``url`` answers 2xx."""
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return 200 <= int(response.status) < 300
    except OSError:
        return False


@dataclass
class Stack:
    """The processes of one Waspada stack and the settings they share."""

    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="waspada-")))
    kafka_bootstrap: str | None = None
    redis_url: str | None = None
    directory: Path = CONFIG_DIR / "directory.yaml"
    channels: Path = CONFIG_DIR / "channels.yaml"
    policy: Path = CONFIG_DIR / "policy.yaml"
    ports: dict[str, int] = field(default_factory=dict)
    extra_env: dict[str, str] = field(default_factory=dict)
    processes: dict[str, Managed] = field(default_factory=dict)

    # -- infrastructure -------------------------------------------------------------------
    def start_broker(self, port: int | None = None) -> None:
        """Start Tansu unless a Kafka was given; wait until it answers; create every topic."""
        if self.kafka_bootstrap is None:
            self.ports["broker"] = _pick(port)
            proc = infra.broker(self.ports["broker"], log=self.workdir / "broker.log").start()
            self.processes["broker"] = proc
            proc.wait_until(lambda: port_open(self.ports["broker"]))
            self.kafka_bootstrap = f"127.0.0.1:{self.ports['broker']}"
        asyncio.run(self._topics())

    async def _topics(self) -> None:
        assert self.kafka_bootstrap is not None
        await wait_for_kafka(self.kafka_bootstrap)
        await ensure_topics(self.kafka_bootstrap, Topics.ALL)

    def start_valkey(self, port: int | None = None) -> None:
        """Start Valkey (append-only file in the work dir) unless a Redis URL was given."""
        if self.redis_url is not None:
            return
        self.ports["valkey"] = _pick(port)
        proc = infra.valkey(self.ports["valkey"], self.workdir / "valkey", log=self.workdir / "valkey.log").start()
        self.processes["valkey"] = proc
        proc.wait_until(lambda: infra.valkey_ready(self.ports["valkey"]))
        self.redis_url = f"redis://127.0.0.1:{self.ports['valkey']}/0"

    # -- services -------------------------------------------------------------------------
    def env(self) -> dict[str, str]:
        """The ``WASPADA_*`` environment every service of this stack runs with."""
        assert self.kafka_bootstrap and self.redis_url, "start the broker and Valkey first"
        env = {
            **os.environ,
            "WASPADA_KAFKA_BOOTSTRAP": self.kafka_bootstrap,
            "WASPADA_REDIS_URL": self.redis_url,
            "WASPADA_DIRECTORY": str(self.directory),
            "WASPADA_CHANNELS": str(self.channels),
            "WASPADA_POLICY": str(self.policy),
            "WASPADA_PSEUDONYM_KEY": os.environ.get("WASPADA_PSEUDONYM_KEY", DEV_PSEUDONYM_KEY),
            "WASPADA_TRIAGE_DATA_DIR": str(self.workdir / "triage"),
            "PYTHONUNBUFFERED": "1",
        }
        for name in ("ingest", "triage", "notify"):
            if name in self.ports:
                env[f"WASPADA_{name.upper()}_PORT"] = str(self.ports[name])
        if "notify" in self.ports:
            env["WASPADA_PUBLIC_URL"] = f"http://127.0.0.1:{self.ports['notify']}"
        return {**env, **self.extra_env}

    def start_service(
        self, name: str, port: int | None = None, *, wait: bool = True, to_terminal: bool = False
    ) -> Managed:
        """Start ``python -m services.<name>`` (or the sink) and wait for its health endpoint.

        Output goes to ``<workdir>/<name>.log``, or to our own stdout with ``to_terminal``.
        """
        self.ports[name] = _pick(port)
        if name == "sink":
            argv = [
                sys.executable,
                "-m",
                "devstack.sink",
                "--port",
                str(self.ports[name]),
                "--directory",
                str(self.directory),
            ]
        else:
            argv = [sys.executable, "-m", f"services.{name}"]
        log = None if to_terminal else self.workdir / f"{name}.log"
        proc = Managed(name, argv, env=self.env(), log=log, cwd=REPO_ROOT).start()
        self.processes[name] = proc
        if wait:
            self.wait_healthy(name)
        return proc

    def wait_healthy(self, name: str, timeout: float = 60.0) -> None:
        path = "/received" if name == "sink" else "/healthz"
        self.processes[name].wait_until(lambda: http_ok(self.url(name) + path), timeout)

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def stop(self, *names: str) -> None:
        """Stop the named processes, or all of them, services before infrastructure."""
        order = names or tuple(reversed(self.processes))
        for name in order:
            proc = self.processes.pop(name, None)
            if proc is not None:
                proc.stop()
