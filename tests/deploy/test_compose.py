"""docker-compose.yml and the Dockerfile, checked without a Docker engine."""

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from services.common.settings import REPO_ROOT
from services.common.variables import Reader, readers
from tests.deploy.launcher import launch_argv

COMPOSE = REPO_ROOT / "docker-compose.yml"
CHECK_JSONSCHEMA = Path(sys.executable).parent / "check-jsonschema"
SERVICES = ("ingest", "triage", "notify")


def _compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return data


def _validate(path: Path) -> subprocess.CompletedProcess[str]:
    argv = [str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.compose-spec", str(path)]
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)


def test_compose_file_follows_the_compose_specification(tmp_path: Path) -> None:
    result = _validate(COMPOSE)
    assert result.returncode == 0, result.stdout + result.stderr
    broken = tmp_path / "docker-compose.yml"  # the validator is live: a misspelt key fails
    broken.write_text(COMPOSE.read_text().replace("restart: unless-stopped", "restrat: unless-stopped"))
    assert _validate(broken).returncode != 0


@pytest.mark.parametrize("name", SERVICES)
def test_service_command_is_what_make_run_runs(name: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert _compose()["services"][name]["command"] == launch_argv(name, monkeypatch, tmp_path)


def test_compose_runs_every_part_issue_7_names() -> None:
    services = _compose()["services"]
    assert {"kafka", "valkey", "ingest", "triage", "notify", "prometheus", "grafana"} <= set(services)
    kafka = services["kafka"]
    assert kafka["image"].startswith("apache/kafka:")
    assert kafka["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"  # KRaft, no ZooKeeper
    assert "zookeeper" not in COMPOSE.read_text().lower()
    assert services["valkey"]["image"].startswith("valkey/valkey:")
    for name, service in services.items():
        assert "healthcheck" in service or name == "kafka-exporter", f"{name} has no healthcheck"


@pytest.mark.parametrize("name", SERVICES)
def test_services_run_against_real_kafka_settings(name: str) -> None:
    service = _compose()["services"][name]
    env = service["environment"]
    assert env["WASPADA_KAFKA_IDEMPOTENT_PRODUCER"] == "true"
    assert env["WASPADA_KAFKA_BOOTSTRAP"] == "kafka:9092"
    assert env["WASPADA_REDIS_URL"].startswith("redis://valkey:")
    if name != "notify":
        assert env["WASPADA_PSEUDONYM_KEY"].startswith("${WASPADA_PSEUDONYM_KEY:?"), "the key must come from outside"
    assert env[f"WASPADA_{name.upper()}_PORT"]
    config_file = {"ingest": "WASPADA_CHANNELS", "triage": "WASPADA_POLICY", "notify": "WASPADA_DIRECTORY"}[name]
    mounted = env[config_file].replace("/app/config/", "")
    assert (REPO_ROOT / "config" / mounted).is_file(), config_file
    assert service["depends_on"]["kafka"]["condition"] == "service_healthy"
    assert service["read_only"] is True and service["cap_drop"] == ["ALL"]


@pytest.mark.parametrize("name", SERVICES)
def test_services_are_set_only_variables_they_read(name: str) -> None:
    """Compose's common block once gave every service every file and the pseudonym key."""
    env = _compose()["services"][name]["environment"]
    unread = sorted(var for var in env if var.startswith("WASPADA_") and Reader(name) not in readers(var))
    assert unread == [], f"{name} is given variables it does not read"


def test_mounted_files_exist() -> None:
    for service in _compose()["services"].values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (REPO_ROOT / source).exists(), volume


def _dockerfile() -> list[str]:
    text = (REPO_ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def test_dockerfile_is_small_non_root_and_healthchecked() -> None:
    lines = _dockerfile()
    froms = [line.split()[1] for line in lines if line.startswith("FROM ")]
    assert froms and all(image == "python:3.11-slim" for image in froms)
    user = [line.split()[1] for line in lines if line.startswith("USER ")][-1]
    assert user.split(":")[0] not in {"0", "root"}
    assert any(line.startswith("HEALTHCHECK ") and "/app/healthcheck.py" in line for line in lines)
    ignored = (REPO_ROOT / ".dockerignore").read_text().split()
    for line in lines:
        if line.startswith("COPY ") and "--from=" not in line:
            source = line.split()[1]
            assert (REPO_ROOT / source).exists(), line
            assert not any(source == pattern or source.startswith(pattern + "/") for pattern in ignored), line
    for heavy in (".venv", ".git", "tests", "devstack"):
        assert heavy in ignored, f".dockerignore should exclude {heavy}"


REPLICATION_PLAN = (
    "default.replication.factor",
    "min.insync.replicas",
    "offsets.topic.replication.factor",
    "transaction.state.log.replication.factor",
    "transaction.state.log.min.isr",
    "share.coordinator.state.topic.replication.factor",
    "share.coordinator.state.topic.min.isr",
)


def test_compose_runs_the_kafka_the_suite_tests_with(tmp_path: Path) -> None:
    """What is tested is what ships: the broker version, the shipped settings and the one-node
    replication plan of the test bed's clusters (devstack/kafka/cluster.py), key by key."""
    from devstack.kafka.cluster import SHIPPED, KafkaCluster
    from devstack.kafka.fetch import version

    kafka = _compose()["services"]["kafka"]
    assert kafka["image"] == f"apache/kafka:{version()}"
    env = {key: str(value) for key, value in kafka["environment"].items()}
    one_node = KafkaCluster(tmp_path, 1)  # not started: only its server.properties
    suite = one_node.properties(one_node.node(1))
    for name in (*SHIPPED, *REPLICATION_PLAN):
        assert env.get("KAFKA_" + name.upper().replace(".", "_")) == suite[name], name
    assert suite["process.roles"] == env["KAFKA_PROCESS_ROLES"]


def test_compose_services_create_the_topics_the_suite_creates() -> None:
    """Compose declares no topics: ingest and notify create them (ensure_topics, the configs of
    schemas/topics.py) and Faust triage's changelog, as in the suite; replication is the broker's one."""
    text = COMPOSE.read_text()
    assert "kafka-topics.sh --create" not in text and "KAFKA_CREATE_TOPICS" not in text
    for name in SERVICES:
        env = _compose()["services"][name]["environment"]
        assert env.get("WASPADA_KAFKA_REPLICATION_FACTOR", "1") == "1", name  # one broker
