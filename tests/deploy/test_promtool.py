"""deploy/prometheus through promtool: config, rules, and the rules' unit tests."""

import re
import subprocess
from pathlib import Path

import yaml

from services.common.settings import CONFIG_DIR, REPO_ROOT

PROMETHEUS = REPO_ROOT / "deploy" / "prometheus"
RULES = PROMETHEUS / "rules" / "waspada.rules.yml"


def _promtool(promtool: str, *args: str, cwd: Path = PROMETHEUS) -> str:
    out = subprocess.run([promtool, *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout + out.stderr


def test_promtool_check_config(promtool: str) -> None:
    assert "SUCCESS" in _promtool(promtool, "check", "config", "prometheus.yml")


def test_promtool_check_rules(promtool: str) -> None:
    assert "SUCCESS: 10 rules found" in _promtool(promtool, "check", "rules", str(RULES))


def test_promtool_test_rules(promtool: str) -> None:
    assert "SUCCESS" in _promtool(promtool, "test", "rules", "tests/waspada.rules.test.yml")


def test_promtool_test_rules_catches_a_broken_rule(promtool: str, tmp_path: Path) -> None:
    """The unit tests are not vacuous: a rule that never fires fails them."""
    (tmp_path / "rules").mkdir()
    (tmp_path / "tests").mkdir()
    broken = RULES.read_text().replace('expr: up{job=~"waspada-.*"} == 0', 'expr: up{job=~"waspada-.*"} == 2')
    assert broken != RULES.read_text()
    (tmp_path / "rules" / "waspada.rules.yml").write_text(broken)
    (tmp_path / "tests" / "t.yml").write_text((PROMETHEUS / "tests" / "waspada.rules.test.yml").read_text())
    out = subprocess.run(
        [promtool, "test", "rules", "tests/t.yml"], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert out.returncode != 0 and "WaspadaServiceDown" in out.stdout + out.stderr


def test_promtool_test_rules_catches_an_unrouted_rule_that_never_fires(promtool: str, tmp_path: Path) -> None:
    """The national-desk alert's unit test is not vacuous either: a rule blind to the counter fails it."""
    (tmp_path / "rules").mkdir()
    (tmp_path / "tests").mkdir()
    rules = RULES.read_text()
    rule = "increase(waspada_notify_unrouted_total[1h]) > "
    broken = rules.replace(rule + "0", rule + "5")
    assert broken != rules
    (tmp_path / "rules" / "waspada.rules.yml").write_text(broken)
    (tmp_path / "tests" / "t.yml").write_text((PROMETHEUS / "tests" / "waspada.rules.test.yml").read_text())
    out = subprocess.run(
        [promtool, "test", "rules", "tests/t.yml"], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert out.returncode != 0 and "WaspadaUnroutedEscalations" in out.stdout + out.stderr


def test_an_alert_fires_on_unrouted_escalations() -> None:
    """CONTRACT §6: an alert rule fires on waspada_notify_unrouted_total."""
    rules = {r.get("alert"): r for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"]}
    rule = rules["WaspadaUnroutedEscalations"]
    assert "waspada_notify_unrouted_total" in rule["expr"] and "by (agency)" in rule["expr"]
    assert "national desk" in rule["annotations"]["summary"]


def _duration(text: str) -> int:
    seconds = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    return sum(int(n) * seconds[unit] for n, unit in re.findall(r"(\d+)([smhd])", text))


def test_unacknowledged_alerts_wait_exactly_the_policy_time() -> None:
    policy = yaml.safe_load((CONFIG_DIR / "policy.yaml").read_text())["acknowledgement"]
    rules = {r.get("alert"): r for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"]}
    assert _duration(rules["WaspadaCriticalUnacknowledged"]["for"]) == _duration(policy["CRITICAL"])
    assert _duration(rules["WaspadaHighUnacknowledged"]["for"]) == _duration(policy["HIGH"])


def test_rules_cover_the_five_situations_of_issue_7() -> None:
    alerts = {r.get("alert") for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"]}
    assert {
        "WaspadaConsumerLagGrowing",
        "WaspadaDeadLetters",
        "WaspadaDeliveryFailures",
        "WaspadaCriticalUnacknowledged",
        "WaspadaServiceDown",
    } <= alerts
