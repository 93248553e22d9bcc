"""KRaft clusters of Apache Kafka on 127.0.0.1: one node, or three for the fault drills.

Every node is combined (``process.roles=broker,controller``) and a voter of a static controller
quorum: three JVMs rather than four with a dedicated controller, and a quorum that keeps its
majority when one node is killed. Each node is a ``Managed`` process with its own ports, log dir
and log file, so a drill can SIGKILL or SIGSTOP one and start it again with the same id, ports
and data. Storage is formatted only when a node's log dir has never been formatted, so a cluster
under ``.run/kafka`` keeps its records from one ``make run BROKER=kafka`` to the next.
"""

import base64
import hashlib
import re
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from devstack.kafka.fetch import DONE, cache_dir, java_version, libs
from devstack.processes import Managed, free_port, port_open, run_to_end

LOG4J2 = Path(__file__).with_name("log4j2.properties")

JVM_OPTIONS = (
    # heap for 2 cores / 24 GiB and up to four nodes at once; the serial collector needs no GC threads
    "-Xms256m",
    "-Xmx512m",
    "-XX:+UseSerialGC",
    # C1 only: a node starts faster, and the tests' loads never need C2's code
    "-XX:TieredStopAtLevel=1",
    "-XX:+ExitOnOutOfMemoryError",
    "-XX:-UsePerfData",
    "-Djava.awt.headless=true",
    f"-Dlog4j2.configurationFile={LOG4J2}",
)

SHIPPED = {
    "num.partitions": "4",  # schemas/topics.py PARTITIONS, for any topic created without a count
    "auto.create.topics.enable": "false",  # as shipped: the services create their topics (ensure_topics)
    "group.initial.rebalance.delay.ms": "0",
}
"""The broker settings docker-compose.yml ships as well (tests/deploy compares them, and the
replication plan of ``KafkaCluster.properties``)."""

SETTINGS = {
    **SHIPPED,
    # the test bed's own, for start-up time and heap on 2 cores, none of them a behaviour a test relies on:
    # 50 partitions each by default: their creation on the first group join is most of a test's wait
    "offsets.topic.num.partitions": "4",
    "transaction.state.log.num.partitions": "4",
    # the cleaner's dedupe buffer is allocated on the heap at start (128 MiB by default)
    "log.cleaner.dedupe.buffer.size": str(16 * 1024 * 1024),
    # a killed node is fenced (its partitions led elsewhere) after 6 s without a heartbeat, not 9 s
    "broker.heartbeat.interval.ms": "1000",
    "broker.session.timeout.ms": "6000",
}

STARTS: list[tuple[int, float]] = []
"""(nodes, seconds) of every cluster start of this process: the test session's summary counts them."""

START_ATTEMPTS = 3
"""Starts with fresh ports after a node found one of its ports taken (another stack took it meanwhile)."""


def java() -> str:
    return shutil.which("java") or "java"


def new_cluster_id() -> str:
    """A cluster id as ``kafka-storage random-uuid`` makes them (URL-safe base64 of a UUID)."""
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")


@dataclass
class Node:
    """One combined broker+controller: its id, ports, directory (``server.properties``, ``data/``) and process."""

    node_id: int
    port: int
    controller_port: int
    root: Path
    proc: Managed

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def config(self) -> Path:
        return self.root / "server.properties"

    @property
    def meta(self) -> Path:
        """``meta.properties``: what ``kafka-storage format`` wrote (cluster id, node id, directory id)."""
        return self.data_dir / "meta.properties"

    @property
    def closed_cleanly(self) -> bool:
        """True once the broker closed its logs in a clean shutdown (Kafka's own marker, deleted at start)."""
        return (self.data_dir / ".kafka_cleanshutdown").is_file()


class KafkaCluster:
    """``size`` combined KRaft nodes under ``root``; ``port`` is node 1's client port when it is free."""

    def __init__(
        self, root: Path, size: int = 1, *, port: int | None = None, jvm_options: Sequence[str] | None = None
    ) -> None:
        self.root = root
        self.size = size
        self.jvm_options = list(jvm_options) if jvm_options is not None else class_data_options()
        """Beyond ``JVM_OPTIONS``: by default the class-data archive, when ``python -m devstack.kafka`` built it."""
        self.cluster_id = ""
        """Set by ``start``: what the nodes' storage says; readiness checks that the answer comes from it."""
        ports = _distinct_free_ports(2 * size, preferred=port)
        self.nodes = [self._node(i, ports[2 * i - 2], ports[2 * i - 1]) for i in range(1, size + 1)]

    def _node(self, node_id: int, port: int, controller_port: int) -> Node:
        proc = Managed(f"kafka-{node_id}", [], log=self.root / f"kafka-{node_id}.log")  # argv: by configure()
        return Node(node_id, port, controller_port, self.root / f"node-{node_id}", proc)

    @property
    def bootstrap(self) -> str:
        return ",".join(f"127.0.0.1:{n.port}" for n in self.nodes)

    @property
    def replication(self) -> int:
        """Replication factor of every topic: 3 on three nodes (or more), else 1."""
        return min(self.size, 3)

    @property
    def min_insync(self) -> int:
        return 2 if self.replication >= 3 else 1

    def node(self, node_id: int) -> Node:
        return self.nodes[node_id - 1]

    def properties(self, node: Node) -> dict[str, str]:
        """The ``server.properties`` of ``node``: listeners on loopback, the quorum, the replication plan."""
        rf, isr = str(self.replication), str(self.min_insync)
        return {
            "process.roles": "broker,controller",
            "node.id": str(node.node_id),
            "controller.quorum.voters": ",".join(f"{n.node_id}@127.0.0.1:{n.controller_port}" for n in self.nodes),
            "listeners": f"PLAINTEXT://127.0.0.1:{node.port},CONTROLLER://127.0.0.1:{node.controller_port}",
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{node.port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "log.dirs": str(node.data_dir),
            "default.replication.factor": rf,
            "min.insync.replicas": isr,
            "offsets.topic.replication.factor": rf,
            "transaction.state.log.replication.factor": rf,
            "transaction.state.log.min.isr": isr,
            "share.coordinator.state.topic.replication.factor": rf,
            "share.coordinator.state.topic.min.isr": isr,
            **SETTINGS,
        }

    def configure(self, classpath: str) -> None:
        """Write every node's ``server.properties`` and command line for the current ports."""
        for node in self.nodes:
            node.root.mkdir(parents=True, exist_ok=True)
            text = "".join(f"{key}={value}\n" for key, value in self.properties(node).items())
            node.config.write_text(text, encoding="utf-8")
            options = [*JVM_OPTIONS, *self.jvm_options]
            node.proc.argv = [java(), *options, "-cp", classpath, "kafka.Kafka", str(node.config)]

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self, timeout: float = 90.0) -> "KafkaCluster":
        """Give unformatted nodes storage, start every node, and wait until all of them serve.

        A node that finds a port taken (the ports were free when picked, but another engineer's
        stack may take one before the JVM binds it) makes the whole start go again on fresh ports.
        On any failure the nodes already started are stopped before the error propagates.
        """
        began = time.monotonic()
        classpath = f"{libs()}/*"
        self._provision(classpath)
        for attempt in range(1, START_ATTEMPTS + 1):
            self.configure(classpath)
            logged = {n.node_id: _size(n.proc.log_path) for n in self.nodes}
            try:
                for node in self.nodes:
                    node.proc.start()
                self.wait_ready(timeout)
                STARTS.append((self.size, time.monotonic() - began))
                return self
            except RuntimeError:
                self.stop()
                if attempt == START_ATTEMPTS or not any(_bind_failed(n, logged[n.node_id]) for n in self.nodes):
                    raise
                self._new_ports()
            except BaseException:
                self.stop()
                raise
        raise AssertionError("unreachable")

    def _new_ports(self) -> None:
        ports = _distinct_free_ports(2 * self.size)
        for i, node in enumerate(self.nodes):
            node.port, node.controller_port = ports[2 * i], ports[2 * i + 1]

    def _provision(self, classpath: str) -> None:
        """Copy formatted storage to the nodes that have none, under a cluster id of this cluster's own.

        ``kafka-storage format`` costs a JVM start per node (1-2 s each on these 2 cores), and what it
        writes does not depend on ports or paths: ``bootstrap.checkpoint`` (the feature levels) and
        ``meta.properties`` (cluster id, node id, directory id). So nodes start from a copy of a
        template formatted once per cache, with ``cluster.id`` rewritten: a cluster must not take
        another engineer's broker, answering on a port it picked, for its own (``ready`` checks it).
        """
        formatted = [n for n in self.nodes if n.meta.is_file()]
        self.cluster_id = _cluster_id_of(formatted[0]) if formatted else new_cluster_id()
        template = formatted_template(self.size, classpath) if len(formatted) < self.size else None
        for node in self.nodes:
            if template is not None and not node.meta.is_file():
                staging = node.root / "data.copying"  # an interrupted copy is never taken for formatted storage
                shutil.rmtree(staging, ignore_errors=True)
                shutil.copytree(template / f"node-{node.node_id}", staging)
                meta = staging / "meta.properties"
                meta.write_text(_with_cluster_id(meta.read_text(encoding="utf-8"), self.cluster_id), encoding="utf-8")
                shutil.rmtree(node.data_dir, ignore_errors=True)
                staging.rename(node.data_dir)

    def ready(self) -> bool:
        """True once every node is up and a metadata request, answered by this cluster, lists all of them."""
        if not all(n.proc.alive() and port_open(n.port) for n in self.nodes):
            return False
        try:
            cluster_id, brokers = run_to_end(self._describe)
        except Exception:  # not ready yet: a refused or timed-out request, an answer from a node still starting
            return False
        return cluster_id == self.cluster_id and brokers == {n.node_id for n in self.nodes}

    async def _describe(self) -> tuple[str, set[int]]:
        from aiokafka.admin import AIOKafkaAdminClient

        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap, request_timeout_ms=2000)
        try:
            await admin.start()
            answer = await admin.describe_cluster()
            return str(answer["cluster_id"]), {int(b["node_id"]) for b in answer["brokers"]}
        finally:
            await admin.close()

    def wait_ready(self, timeout: float = 90.0) -> None:
        """Poll ``ready`` until it is true; RuntimeError naming the node that died, or the wait that ran out."""
        deadline = time.monotonic() + timeout
        while not self.ready():
            for node in self.nodes:
                node.proc.check_alive()
            if time.monotonic() > deadline:
                logs = ", ".join(str(n.proc.log_path) for n in self.nodes)
                raise RuntimeError(f"Kafka ({self.size} nodes) was not ready within {timeout:.0f} s; logs: {logs}")
            time.sleep(0.2)

    def kill(self, node_id: int) -> None:
        """SIGKILL one node, as a crash would (its log dir stays as the crash left it)."""
        self.node(node_id).proc.kill()

    def restart(self, node_id: int, *, kill: bool = False, down_for: float = 0.0, timeout: float = 90.0) -> None:
        """Stop (or SIGKILL) one node, keep it down ``down_for`` s, start it with the same id, ports and data."""
        self.node(node_id).proc.restart(kill=kill, down_for=down_for)
        self.wait_ready(timeout)

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM every node at once (one stopped alone waits for a quorum), SIGKILL what is left after ``timeout``.

        Several nodes stopping together each spend 5 s, after closing their logs, trying to hand the
        quorum's leadership to voters that are stopping too; so once every node has closed its logs
        (``.kafka_cleanshutdown`` written) the rest is cut short with SIGKILL. A lone node has
        nobody to hand over to and finishes in well under a second.
        """
        running = [n for n in self.nodes if n.proc.alive()]
        for node in running:
            node.proc.signal(signal.SIGCONT)
            node.proc.signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while any(n.proc.alive() and (self.size == 1 or not n.closed_cleanly) for n in running):
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)
        for node in self.nodes:
            if node.proc.alive():
                node.proc.kill()
            node.proc.stop()  # reaps, closes its log file


def _distinct_free_ports(count: int, preferred: int | None = None) -> list[int]:
    """``count`` ports free right now and distinct (two quick ``free_port`` calls can return the same one)."""
    ports = [preferred] if preferred and not port_open(preferred) else []
    while len(ports) < count:
        port = free_port()
        if port not in ports:
            ports.append(port)
    return ports


def _size(path: Path | None) -> int:
    return path.stat().st_size if path is not None and path.exists() else 0


def _bind_failed(node: Node, since: int) -> bool:
    """True when ``node``'s log, from byte ``since`` on, says one of its ports was taken."""
    if node.proc.log_path is None or not node.proc.log_path.exists():
        return False
    with node.proc.log_path.open("rb") as log:
        log.seek(since)
        return b"Address already in use" in log.read()


def _cluster_id_of(node: Node) -> str:
    match = re.search(r"^cluster\.id=(.+)$", node.meta.read_text(encoding="utf-8"), re.MULTILINE)
    if match is None:
        raise RuntimeError(f"{node.meta} names no cluster.id")
    return match.group(1).strip()


def _with_cluster_id(meta: str, cluster_id: str) -> str:
    changed, count = re.subn(r"^cluster\.id=.*$", f"cluster.id={cluster_id}", meta, flags=re.MULTILINE)
    if count != 1:
        raise RuntimeError(f"meta.properties of the storage template has {count} cluster.id lines")
    return changed


def formatted_template(size: int, classpath: str) -> Path:
    """``kafka-storage format`` of ``size`` nodes into the cache (once; a marker file is written last)."""
    target = cache_dir() / f"storage-{size}"
    if (target / DONE).is_file():
        return target
    with tempfile.TemporaryDirectory(prefix=f".storage-{size}-", dir=target.parent) as tmp:
        staging = KafkaCluster(Path(tmp), size, jvm_options=[])
        staging.configure(classpath)
        argv = [java(), *JVM_OPTIONS, "-cp", classpath, "kafka.tools.StorageTool", "format", "-t", new_cluster_id()]
        runs = [(node, subprocess.Popen([*argv, "-c", str(node.config)], stdout=subprocess.PIPE,
                 stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)) for node in staging.nodes]  # fmt: skip
        for node, proc in runs:  # one JVM per node, all at once
            out = proc.communicate(timeout=120)[0].decode(errors="replace")
            if proc.returncode != 0:
                raise RuntimeError(f"kafka-storage format of node {node.node_id} failed: {out.strip()}")
        result = Path(tmp) / "formatted"
        for node in staging.nodes:
            shutil.move(node.data_dir, result / f"node-{node.node_id}")
        (result / DONE).write_text(f"formatted by kafka-storage for {size} node(s)\n")
        if not (target / DONE).is_file():  # else another process finished first
            shutil.rmtree(target, ignore_errors=True)
            result.rename(target)
    return target


def class_data_archive() -> Path:
    """Where the class-data archive of these jars and this JVM build lives (a JDK upgrade gets a new one)."""
    build = hashlib.sha256(java_version().encode()).hexdigest()[:12]
    return cache_dir() / f"classes-{build}.jsa"


def class_data_options() -> list[str]:
    """``-XX:SharedArchiveFile`` when the archive exists: the nodes map Kafka's classes instead of loading them.

    Measured on these 2 cores: three nodes ready in 4.4-5.2 s with it, 7.1-8.7 s without.
    """
    archive = class_data_archive()
    return [f"-XX:SharedArchiveFile={archive}"] if archive.is_file() else []


def build_class_data_archive() -> bool:
    """Dump the classes a node loads into the archive (JDK 17 dynamic CDS), once; True when it was built now.

    The JVM writes the archive as it exits; a truncated archive would crash every later JVM that
    maps it, so the dump goes to a staging name and is renamed into place only after a clean exit.
    """
    archive = class_data_archive()
    if archive.is_file():
        return False
    with tempfile.TemporaryDirectory(prefix=".classes-", dir=archive.parent) as tmp:
        dump = Path(tmp) / "classes.jsa"
        cluster = KafkaCluster(Path(tmp) / "kafka", 1, jvm_options=[f"-XX:ArchiveClassesAtExit={dump}"]).start()
        cluster.stop(timeout=120)  # the dump happens at exit: seconds, not the usual fraction of one
        exited = cluster.node(1).proc.proc
        if exited is None or exited.returncode != 128 + signal.SIGTERM or not dump.is_file():
            raise RuntimeError(f"no class-data archive: the node exited with {exited and exited.returncode}")
        dump.rename(archive)
    return True
