"""Starting and stopping the whole stack, for ``make run`` and for the test suite.

The broker is the embedded one (Tansu) by default, or Apache Kafka: one node (``"kafka"``) or a
three-node cluster (``"kafka3"``, replication factor 3, ``min.insync.replicas=2``), CONTRACT §10.
"""

import os
import sys
import tempfile
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Literal

from devstack import infra, postgres
from devstack.kafka.cluster import KafkaCluster
from devstack.processes import Managed, free_port, port_open, run_to_end
from schemas.topics import Topics
from services.common.kafka import ensure_topics, wait_for_kafka
from services.common.settings import CONFIG_DIR, REPO_ROOT

DEV_PSEUDONYM_KEY = "waspada-dev-only-pseudonym-key-not-for-production"

Broker = Literal["embedded", "kafka", "kafka3"]
BROKERS: Final[tuple[Broker, ...]] = ("embedded", "kafka", "kafka3")
KAFKA_NODES: Final[dict[Broker, int]] = {"kafka": 1, "kafka3": 3}


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
    broker: Broker = "embedded"
    """Which broker ``start_broker`` starts, and which one a given ``kafka_bootstrap`` is (its services' settings)."""
    kafka_bootstrap: str | None = None
    redis_url: str | None = None
    database_url: str | None = None
    """PostgreSQL (the system of record): ``start_postgres`` starts one unless a URL was given."""
    directory: Path = CONFIG_DIR / "directory.yaml"
    channels: Path = CONFIG_DIR / "channels.yaml"
    policy: Path = CONFIG_DIR / "policy.yaml"
    ports: dict[str, int] = field(default_factory=dict)
    extra_env: dict[str, str] = field(default_factory=dict)
    processes: dict[str, Managed] = field(default_factory=dict)
    kafka: KafkaCluster | None = None
    """The Apache Kafka cluster ``start_broker`` started (its nodes are also in ``processes``)."""

    def sharing(self, workdir: Path) -> "Stack":
        """A new stack for services of its own on this stack's broker and Valkey."""
        return Stack(
            workdir=workdir,
            broker=self.broker,
            kafka_bootstrap=self.kafka_bootstrap,
            redis_url=self.redis_url,
            database_url=self.database_url,
        )

    @property
    def replication(self) -> int:
        """Replication factor of the topics: 3 on the three-node cluster, else 1."""
        return min(KAFKA_NODES.get(self.broker, 1), 3)

    # -- infrastructure -------------------------------------------------------------------
    def start_broker(self, port: int | None = None) -> None:
        """Start the broker unless a Kafka was given; wait until it answers; create every topic."""
        if self.kafka_bootstrap is None and self.broker == "embedded":
            self.ports["broker"] = _pick(port)
            proc = infra.broker(self.ports["broker"], log=self.workdir / "broker.log").start()
            self.processes["broker"] = proc
            proc.wait_until(lambda: port_open(self.ports["broker"]))
            self.kafka_bootstrap = f"127.0.0.1:{self.ports['broker']}"
        elif self.kafka_bootstrap is None:
            self._start_kafka(port)
        run_to_end(self._topics)

    def _start_kafka(self, port: int | None) -> None:
        """Apache Kafka under ``<workdir>/kafka``: node 1 is ``processes["broker"]``, or ``broker-<id>`` of three."""
        cluster = KafkaCluster(self.workdir / "kafka", KAFKA_NODES[self.broker], port=port).start()
        self.kafka = cluster
        for node in cluster.nodes:
            name = "broker" if cluster.size == 1 else f"broker-{node.node_id}"
            self.processes[name] = node.proc
            self.ports[name] = node.port
        self.kafka_bootstrap = cluster.bootstrap

    def broker_ready(self) -> bool:
        """True when the broker serves again (after a restart in a drill): every Kafka node, or Tansu's port."""
        return self.kafka.ready() if self.kafka else port_open(self.ports["broker"])

    async def _topics(self) -> None:
        assert self.kafka_bootstrap is not None
        await wait_for_kafka(self.kafka_bootstrap)
        await ensure_topics(self.kafka_bootstrap, Topics.ALL, replication=self.replication)

    def start_valkey(self, port: int | None = None) -> None:
        """Start Valkey (append-only file in the work dir) unless a Redis URL was given."""
        if self.redis_url is not None:
            return
        self.ports["valkey"] = _pick(port)
        proc = infra.valkey(self.ports["valkey"], self.workdir / "valkey", log=self.workdir / "valkey.log").start()
        self.processes["valkey"] = proc
        proc.wait_until(lambda: infra.valkey_ready(self.ports["valkey"]))
        self.redis_url = f"redis://127.0.0.1:{self.ports['valkey']}/0"

    def start_postgres(self, port: int | None = None, *, data_dir: Path | None = None, durable: bool = False) -> None:
        """Start PostgreSQL (data in ``data_dir``, kept across starts, else in the work dir) unless a URL was given.

        ``durable`` keeps fsync on: ``make run`` keeps its data, a test's server is thrown away.
        """
        if self.database_url is not None:
            return
        self.ports["postgres"] = _pick(port)
        data = data_dir or postgres.data_dir_for(self.workdir)
        proc = postgres.server(self.ports["postgres"], data, log=self.workdir / "postgres.log", durable=durable)
        self.processes["postgres"] = proc.start()
        proc.wait_until(lambda: postgres.ready(self.ports["postgres"]), timeout=60)
        self.database_url = postgres.url(self.ports["postgres"])

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
        # the embedded broker has no idempotent producer (no InitProducerId): off there, on (the default) on Kafka
        env["WASPADA_KAFKA_IDEMPOTENT_PRODUCER"] = "false" if self.broker == "embedded" else "true"
        if self.database_url is not None:
            env["WASPADA_DATABASE_URL"] = self.database_url
        if self.broker != "embedded":
            env["WASPADA_KAFKA_REPLICATION_FACTOR"] = str(self.replication)
        for name in ("ingest", "triage", "notify"):
            if name in self.ports:
                env[f"WASPADA_{name.upper()}_PORT"] = str(self.ports[name])
        if "notify" in self.ports:
            env["WASPADA_PUBLIC_URL"] = f"http://127.0.0.1:{self.ports['notify']}"
        return {**env, **self.extra_env}

    def start_service(
        self,
        name: str,
        port: int | None = None,
        *,
        wait: bool = True,
        to_terminal: bool = False,
        replica: int = 1,
    ) -> Managed:
        """Start ``python -m services.<name>`` (or the sink) and wait for its health endpoint.

        ``replica`` 2, 3, … starts another instance of the service beside the first, as a
        deployment with several replicas runs it: the same settings, the same consumer groups,
        Valkey and broker, but a port, a log and (for triage) a data directory of its own; notify's public URL
        stays the first one's, as a load balancer's would be one address. It is
        ``<name>-<replica>`` in ``processes``, ``ports`` and ``url``; the first one is plain ``<name>``.
        Output goes to ``<workdir>/<key>.log``, or to our own stdout with ``to_terminal``.
        """
        key = name if replica == 1 else f"{name}-{replica}"
        self.ports[key] = _pick(port)
        if name == "sink":
            argv = [
                sys.executable,
                "-m",
                "devstack.sink",
                "--port",
                str(self.ports[key]),
                "--directory",
                str(self.directory),
            ]
        else:
            argv = [sys.executable, "-m", f"services.{name}"]
        log = None if to_terminal else self.workdir / f"{key}.log"
        proc = Managed(key, argv, env=self.env_of(name, key), log=log, cwd=REPO_ROOT).start()
        self.processes[key] = proc
        if wait:
            self.wait_healthy(key)
        return proc

    def env_of(self, name: str, key: str) -> dict[str, str]:
        """``env()`` for the instance ``key`` of service ``name``: its own port (and triage data dir) when a replica."""
        env = self.env()
        if key != name and name in ("ingest", "triage", "notify"):
            env[f"WASPADA_{name.upper()}_PORT"] = str(self.ports[key])
            if name == "triage":  # Faust's worker files (its table stores' directories) are one worker's own
                env["WASPADA_TRIAGE_DATA_DIR"] = str(self.workdir / key)
        return env

    def wait_healthy(self, name: str, timeout: float = 60.0) -> None:
        """Wait for the health endpoint of ``name`` (a service, ``<service>-<replica>``, or the sink)."""
        path = "/received" if name == "sink" else "/healthz"
        self.processes[name].wait_until(lambda: http_ok(self.url(name) + path), timeout)

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def stop(self, *names: str) -> None:
        """Stop the named processes, or all of them, services before infrastructure.

        A whole Kafka cluster stops at once: its last node alone would wait for a controller quorum.
        """
        order = names or tuple(reversed(self.processes))
        nodes = {n.proc for n in self.kafka.nodes} if self.kafka else set()
        whole_cluster = bool(nodes) and nodes <= {self.processes.get(name) for name in order}
        for name in order:
            proc = self.processes.pop(name, None)
            if proc is not None and not (whole_cluster and proc in nodes):
                proc.stop()
        if whole_cluster and self.kafka is not None:
            self.kafka.stop()
            self.kafka = None
