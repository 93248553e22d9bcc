"""KRaft clusters of Apache Kafka on 127.0.0.1: one node, or three for the fault drills.

Every node is combined (``process.roles=broker,controller``) and a voter of a static controller
quorum: three JVMs rather than four with a dedicated controller, and a quorum that keeps its
majority when one node is killed. Each node is a ``Managed`` process with its own ports, log dir
and log file, so a drill can SIGKILL or SIGSTOP one and start it again with the same id, ports
and data. Storage is formatted only when a node's log dir has never been formatted, so a cluster
under ``.run/kafka`` keeps its records from one ``make run BROKER=kafka`` to the next.
"""

import asyncio
import base64
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from devstack.kafka.fetch import DONE, cache_dir, libs
from devstack.processes import Managed, free_port, port_open

LOG4J2 = Path(__file__).with_name("log4j2.properties")

JVM_OPTIONS = (
    # heap for 2 cores / 24 GiB and up to four nodes at once; the serial collector needs no GC threads
    "-Xms256m",
    "-Xmx512m",
    "-XX:+UseSerialGC",
    # C1 only: measured 2.8 s to a ready node against 3.5 s with C2 (the tests' loads are small)
    "-XX:TieredStopAtLevel=1",
    "-XX:+ExitOnOutOfMemoryError",
    "-XX:-UsePerfData",
    "-Djava.awt.headless=true",
    f"-Dlog4j2.configurationFile={LOG4J2}",
)

SETTINGS = {
    "num.partitions": "4",  # schemas/topics.py PARTITIONS, for any topic created without a count
    "auto.create.topics.enable": "false",  # as shipped: the services create their topics (ensure_topics)
    "group.initial.rebalance.delay.ms": "0",
    # 50 partitions each by default: their creation on the first group join is most of a test's wait
    "offsets.topic.num.partitions": "4",
    "transaction.state.log.num.partitions": "4",
    # the cleaner's dedupe buffer is allocated on the heap at start (128 MiB by default)
    "log.cleaner.dedupe.buffer.size": str(16 * 1024 * 1024),
    # a killed node is fenced (its partitions led elsewhere) after 6 s without a heartbeat, not 9 s
    "broker.heartbeat.interval.ms": "1000",
    "broker.session.timeout.ms": "6000",
}


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
    def formatted(self) -> bool:
        return (self.data_dir / "meta.properties").is_file()


class KafkaCluster:
    """``size`` combined KRaft nodes under ``root``; ``port`` is node 1's client port when it is free."""

    def __init__(self, root: Path, size: int = 1, *, port: int | None = None) -> None:
        self.root = root
        self.size = size
        self.nodes = [self._node(i, port if i == 1 else None) for i in range(1, size + 1)]

    def _node(self, node_id: int, port: int | None) -> Node:
        client = port if port and not port_open(port) else free_port()
        node_root = self.root / f"node-{node_id}"
        proc = Managed(f"kafka-{node_id}", [], log=self.root / f"kafka-{node_id}.log")  # argv: set by start()
        return Node(node_id, client, free_port(), node_root, proc)

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

    # -- configuration ----------------------------------------------------------------------
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

    def write_config(self, node: Node) -> None:
        node.root.mkdir(parents=True, exist_ok=True)
        text = "".join(f"{key}={value}\n" for key, value in self.properties(node).items())
        node.config.write_text(text, encoding="utf-8")

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self, timeout: float = 90.0) -> "KafkaCluster":
        """Format what was never formatted, start every node, and wait until all of them serve.

        On any failure the nodes already started are stopped before the error propagates.
        """
        classpath = f"{libs()}/*"
        for node in self.nodes:
            node.proc.argv = [java(), *JVM_OPTIONS, "-cp", classpath, "kafka.Kafka", str(node.config)]
            self.write_config(node)
        try:
            self._format([n for n in self.nodes if not n.formatted], classpath)
            for node in self.nodes:
                node.proc.start()
            self.wait_ready(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _format(self, nodes: list[Node], classpath: str) -> None:
        """Give ``nodes`` formatted storage: copies of a template formatted once per cache and cluster size.

        ``kafka-storage format`` costs a JVM start per node (1-2 s each, on these 2 cores); what it
        writes (``meta.properties``: cluster id, node id, directory id; ``bootstrap.checkpoint``:
        the feature levels) does not depend on ports or paths, so every cluster of a size can start
        from the same copy. Clusters on different ports sharing one cluster id do not meet.
        """
        if nodes:
            template = formatted_template(self.size, classpath)
            for node in nodes:  # through a staging copy: an interrupted copy is never taken for formatted
                staging = node.root / "data.copying"
                shutil.rmtree(staging, ignore_errors=True)
                shutil.copytree(template / f"node-{node.node_id}", staging)
                shutil.rmtree(node.data_dir, ignore_errors=True)
                staging.rename(node.data_dir)

    def ready(self) -> bool:
        """True once every node is up and a metadata request lists all of them as brokers."""
        if not all(n.proc.alive() and port_open(n.port) for n in self.nodes):
            return False
        try:
            return asyncio.run(self._broker_ids()) == {n.node_id for n in self.nodes}
        except Exception:  # not ready yet: a refused or timed-out request, an answer from a node still starting
            return False

    async def _broker_ids(self) -> set[int]:
        from aiokafka.admin import AIOKafkaAdminClient

        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap, request_timeout_ms=2000)
        try:
            await admin.start()
            answer = await admin.describe_cluster()
            return {int(b["node_id"]) for b in answer["brokers"]}
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
        """SIGTERM every node at once (a node stopped last alone would wait for a quorum), SIGKILL after ``timeout``."""
        running = [n.proc for n in self.nodes if n.proc.alive()]
        for proc in running:
            proc.signal(signal.SIGCONT)
            proc.signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for node in self.nodes:
            node.proc.stop(max(0.1, deadline - time.monotonic()))


def formatted_template(size: int, classpath: str) -> Path:
    """``kafka-storage format`` of ``size`` nodes into the cache (once; a marker file is written last)."""
    target = cache_dir() / f"storage-{size}"
    if (target / DONE).is_file():
        return target
    with tempfile.TemporaryDirectory(prefix=f".storage-{size}-", dir=target.parent) as tmp:
        staging = KafkaCluster(Path(tmp), size)
        for node in staging.nodes:
            staging.write_config(node)
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


def main() -> None:
    """``python -m devstack.kafka.cluster [N]``: start N nodes in a temporary directory, report, stop."""
    import sys

    size = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    with tempfile.TemporaryDirectory(prefix="waspada-kafka-") as tmp:
        start = time.monotonic()
        cluster = KafkaCluster(Path(tmp), size).start()
        print(f"{size} node(s) ready in {time.monotonic() - start:.1f} s at {cluster.bootstrap}")
        start = time.monotonic()
        cluster.stop()
        print(f"stopped in {time.monotonic() - start:.1f} s")


if __name__ == "__main__":
    main()
