"""deploy/k8s rendered with kustomize and validated offline against the Kubernetes 1.37 schemas.

Strimzi's KafkaTopic is a custom resource whose CRD is not in that schema set; it is checked by
shape instead (apiVersion, cluster label, topic names, partitions, replication).
"""

import filecmp
from pathlib import Path
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]
import pytest

from devstack.kafka.cluster import KafkaCluster
from schemas.topics import CHANGELOG_CONFIG, PARTITIONS, Topics, topic_config
from services.common.settings import CONFIG_DIR, REPO_ROOT
from services.common.variables import Reader, readers
from tests.deploy.launcher import launch_argv

K8S_VERSION = "1.37.0"
BASE_CONFIG = REPO_ROOT / "deploy" / "k8s" / "base" / "config"
CONFIG_FILES = ("directory.yaml", "channels.yaml", "policy.yaml")
Manifests = list[dict[str, Any]]


def _kind(docs: Manifests, kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def _workloads(docs: Manifests) -> dict[str, dict[str, Any]]:
    return {**_kind(docs, "Deployment"), **_kind(docs, "StatefulSet")}


def _container(workload: dict[str, Any]) -> dict[str, Any]:
    (container,) = workload["spec"]["template"]["spec"]["containers"]
    result: dict[str, Any] = container
    return result


@pytest.mark.parametrize("overlay", ["base_manifests", "prod_manifests"])
def test_rendered_manifests_validate_against_kubernetes_schemas(overlay: str, request: pytest.FixtureRequest) -> None:
    docs: Manifests = request.getfixturevalue(overlay)
    validated = 0
    for doc in docs:
        if doc["apiVersion"].startswith("kafka.strimzi.io/"):
            continue
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
        validated += 1
    assert validated >= 20


def test_the_validator_rejects_a_broken_manifest(prod_manifests: Manifests) -> None:
    import copy

    broken = copy.deepcopy(_kind(prod_manifests, "StatefulSet")["triage"])
    broken["spec"]["replicas"] = "four"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, K8S_VERSION, strict=True)


@pytest.mark.parametrize("overlay", ["base_manifests", "prod_manifests"])
def test_triage_is_a_statefulset_of_one_worker_per_partition(overlay: str, request: pytest.FixtureRequest) -> None:
    docs: Manifests = request.getfixturevalue(overlay)
    triage = _kind(docs, "StatefulSet")["triage"]
    assert triage["spec"]["replicas"] == PARTITIONS
    assert triage["spec"]["serviceName"] in _kind(docs, "Service")
    assert "triage" not in _kind(docs, "Deployment")


def test_ingest_and_notify_are_deployments_with_hpas(prod_manifests: Manifests) -> None:
    deployments, hpas = _kind(prod_manifests, "Deployment"), _kind(prod_manifests, "HorizontalPodAutoscaler")
    for name in ("ingest", "notify"):
        target = hpas[name]["spec"]["scaleTargetRef"]
        assert (target["kind"], target["name"]) == ("Deployment", name) and name in deployments
        assert 1 < hpas[name]["spec"]["minReplicas"] < hpas[name]["spec"]["maxReplicas"]
    assert hpas["notify"]["spec"]["maxReplicas"] <= PARTITIONS, "notify consumers beyond the partition count idle"


def test_strimzi_topics_by_shape(base_manifests: Manifests, prod_manifests: Manifests, tmp_path: Path) -> None:
    """Replication and min.insync.replicas of the suite's clusters: one node in base, three in prod."""
    one, three = KafkaCluster(tmp_path / "one", 1), KafkaCluster(tmp_path / "three", 3)  # not started
    for docs, replicas, min_isr in ((base_manifests, one.replication, one.min_insync), (prod_manifests, 3, 2)):
        topics = [d for d in docs if d["kind"] == "KafkaTopic"]
        assert sorted(t["spec"]["topicName"] for t in topics) == sorted((*Topics.ALL, Topics.VILLAGES_CHANGELOG))
        for topic in topics:
            assert topic["apiVersion"] == "kafka.strimzi.io/v1beta2"
            assert topic["metadata"]["labels"]["strimzi.io/cluster"] == "waspada"
            assert topic["metadata"]["namespace"] == "waspada"
            assert topic["spec"]["partitions"] == PARTITIONS
            assert topic["spec"]["replicas"] == replicas
            assert topic["spec"]["config"]["min.insync.replicas"] == min_isr
            assert set(topic["spec"]) <= {"topicName", "partitions", "replicas", "config"}
    assert (three.replication, three.min_insync) == (3, 2)


@pytest.mark.parametrize("overlay", ["base_manifests", "prod_manifests"])
def test_strimzi_topic_configs_are_the_ones_the_services_create(overlay: str, request: pytest.FixtureRequest) -> None:
    """What ships is what the suite creates: schemas/topics.py's configs, the changelog compacted."""
    docs: Manifests = request.getfixturevalue(overlay)
    for topic in (d for d in docs if d["kind"] == "KafkaTopic"):
        name, config = topic["spec"]["topicName"], topic["spec"]["config"]
        expected = CHANGELOG_CONFIG if name == Topics.VILLAGES_CHANGELOG else topic_config(name)
        assert {key: str(value) for key, value in config.items() if key != "min.insync.replicas"} == expected, name


def test_prod_services_create_topics_with_the_replication_of_its_strimzi_topics(prod_manifests: Manifests) -> None:
    env = next(
        d for d in prod_manifests if d["kind"] == "ConfigMap" and d["metadata"]["name"].startswith("waspada-env")
    )
    replicas = {t["spec"]["replicas"] for t in prod_manifests if t["kind"] == "KafkaTopic"}
    assert replicas == {int(env["data"]["WASPADA_KAFKA_REPLICATION_FACTOR"])}


def test_real_kafka_settings_in_prod(prod_manifests: Manifests) -> None:
    env = next(
        d for d in prod_manifests if d["kind"] == "ConfigMap" and d["metadata"]["name"].startswith("waspada-env")
    )
    assert env["data"]["WASPADA_KAFKA_IDEMPOTENT_PRODUCER"] == "true"
    assert env["data"]["WASPADA_KAFKA_BOOTSTRAP"] == "waspada-kafka-bootstrap:9092"


@pytest.mark.parametrize("name", ["ingest", "triage", "notify"])
def test_containers_run_make_runs_command_safely(
    name: str, prod_manifests: Manifests, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    workload = _workloads(prod_manifests)[name]
    container = _container(workload)
    assert container["command"] == launch_argv(name, monkeypatch, tmp_path)
    assert container["image"].startswith("registry.example.org/waspada/waspada:")
    assert {"livenessProbe", "readinessProbe"} <= set(container)
    assert set(container["resources"]) == {"requests", "limits"}
    assert {"cpu", "memory"} <= set(container["resources"]["requests"]) & set(container["resources"]["limits"])
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] and not security["allowPrivilegeEscalation"]
    assert workload["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] is True
    env = {e["name"]: e for e in container["env"]}
    port = int(env[f"WASPADA_{name.upper()}_PORT"]["value"])
    assert [p["containerPort"] for p in container["ports"]] == [port]
    assert workload["spec"]["template"]["metadata"]["annotations"]["prometheus.io/port"] == str(port)
    if name in ("ingest", "notify"):  # both have a readiness of their own (Kafka / Valkey reachable, not draining)
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"


def test_secrets_are_referenced_never_embedded(prod_manifests: Manifests) -> None:
    assert not [d for d in prod_manifests if d["kind"] == "Secret"]
    for workload in _workloads(prod_manifests).values():
        env = {e["name"]: e for e in _container(workload)["env"]}
        for name in ("WASPADA_PSEUDONYM_KEY", "WASPADA_REDIS_URL", "WASPADA_SMTP_URL"):
            if name in env:
                assert "value" not in env[name]
                assert env[name]["valueFrom"]["secretKeyRef"]["name"] == "waspada-secrets"
    triage_env = {e["name"] for e in _container(_workloads(prod_manifests)["triage"])["env"]}
    assert "WASPADA_PSEUDONYM_KEY" in triage_env


def test_pdbs_select_every_workload(prod_manifests: Manifests) -> None:
    pdbs = _kind(prod_manifests, "PodDisruptionBudget")
    for name, workload in _workloads(prod_manifests).items():
        assert pdbs[name]["spec"]["selector"] == workload["spec"]["selector"], name


def test_network_policies_deny_by_default(prod_manifests: Manifests) -> None:
    policies = _kind(prod_manifests, "NetworkPolicy")
    deny = policies["default-deny"]["spec"]
    assert deny["podSelector"] == {} and set(deny["policyTypes"]) == {"Ingress", "Egress"}
    assert "ingress" not in deny and "egress" not in deny
    for name in ("ingest", "triage", "notify"):
        assert any(
            p["spec"]["podSelector"].get("matchLabels", {}).get("app.kubernetes.io/name") == name
            and "Ingress" in p["spec"]["policyTypes"]
            for p in policies.values()
        ), f"no ingress policy for {name}"


def test_each_workload_is_set_only_variables_it_reads(prod_manifests: Manifests) -> None:
    """A variable set on a service that does not read it misleads whoever reads the manifest (notify was
    given ``WASPADA_POLICY`` and the policy file, which only triage reads)."""
    shared = next(
        d for d in prod_manifests if d["kind"] == "ConfigMap" and d["metadata"]["name"].startswith("waspada-env")
    )
    for name, workload in _workloads(prod_manifests).items():
        container = _container(workload)
        assert [source["configMapRef"]["name"] for source in container["envFrom"]] == [shared["metadata"]["name"]]
        names = {e["name"] for e in container["env"]} | set(shared["data"])
        unread = sorted(var for var in names if var.startswith("WASPADA_") and Reader(name) not in readers(var))
        assert unread == [], f"{name} is given variables it does not read"


def test_config_copies_are_current() -> None:
    for name in CONFIG_FILES:
        assert filecmp.cmp(CONFIG_DIR / name, BASE_CONFIG / name, shallow=False), (
            f"deploy/k8s/base/config/{name} differs from config/{name}: cp config/*.yaml deploy/k8s/base/config/"
        )


def test_configmaps_carry_the_config_files_and_are_mounted(prod_manifests: Manifests) -> None:
    maps = {d["metadata"]["name"]: d for d in prod_manifests if d["kind"] == "ConfigMap"}
    for name in CONFIG_FILES:
        stem = name.removesuffix(".yaml")
        (generated,) = [m for n, m in maps.items() if n.startswith(f"waspada-{stem}-")]
        assert generated["data"][name] == (CONFIG_DIR / name).read_text()
    wanted = {"ingest": {"channels"}, "triage": {"policy"}, "notify": {"directory"}}
    for name, workload in _workloads(prod_manifests).items():
        spec = workload["spec"]["template"]["spec"]
        mounted = {
            v["configMap"]["name"].rsplit("-", 1)[0].removeprefix("waspada-")
            for v in spec["volumes"]
            if "configMap" in v
        }
        assert mounted == wanted[name], name
        env = {e["name"]: e.get("value") for e in _container(workload)["env"]}
        for stem in wanted[name]:
            mount = next(m for m in _container(workload)["volumeMounts"] if m["name"] == stem)
            assert env[f"WASPADA_{stem.upper()}"] == f"{mount['mountPath']}/{stem}.yaml"
