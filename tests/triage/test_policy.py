"""Loading the policy: the shipped file is complete; a bad file stops with one line naming it."""

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from services.common.config_files import ConfigFileError, read_config
from services.common.settings import CONFIG_DIR, REPO_ROOT
from services.triage.policy import Condition, Policy

SHIPPED = CONFIG_DIR / "policy.yaml"


def _variant(tmp_path: Path, change: dict[str, object], rule: dict[str, object] | None = None) -> Path:
    data = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    data.update(change)
    if rule is not None:
        data["rules"][0] = {**data["rules"][0], **rule}
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_shipped_policy_cites_a_source_for_every_rule(policy: Policy) -> None:
    assert all("DOMAIN §1.6" in rule.source or "ILO" in rule.source for rule in policy.rules)
    assert all("DOMAIN §1.6" in rule.source for rule in policy.correlations)
    levels = {rule.level for rule in policy.rules}
    assert levels == {"hard", "strong", "medium", "mitigating"}
    assert policy.acknowledgement == {"HIGH": 4 * 3600, "CRITICAL": 30 * 60}


@pytest.mark.parametrize(
    ("change", "rule", "names"),
    [
        ({}, {"when": [{"field": "agee", "lt": 18}]}, "rules.0: Value error, departure_anomaly has no field 'agee'"),
        ({}, {"when": [{"field": "age", "lt": 18, "gt": 3}]}, "needs exactly one operator"),
        ({}, {"when": [{"field": "description", "matches": "(unclosed"}]}, "invalid regular expression"),
        ({}, {"when": [{"field": "description", "matches": "gaji(?= besar)"}]}, "no lookaround or backreference"),
        ({}, {"detail": "Traveller {traveller}"}, "detail may not quote {traveller}"),
        ({}, {"dimension": "nowhere"}, "dimension 'nowhere' has no entry under caps"),
        ({}, {"weight": -5}, "mitigating rules, and only they, have a negative weight"),
        ({"severity_thresholds": {"MEDIUM": 30, "HIGH": 60, "CRITICAL": 80}}, None, "severity_thresholds"),
        ({"acknowledgement": {"HIGH": "4 hours"}}, None, "acknowledgement.HIGH"),
        ({"colour": "red"}, None, "colour: Extra inputs are not permitted"),
    ],
)
def test_invalid_policy_names_file_and_field(
    tmp_path: Path, change: dict[str, object], rule: dict[str, object] | None, names: str
) -> None:
    path = _variant(tmp_path, change, rule)
    with pytest.raises(ConfigFileError) as info:
        read_config(path, Policy)
    message = str(info.value)
    assert message.startswith(f"{path}: ") and names in message and "\n" not in message


def test_worker_with_a_bad_policy_exits_with_one_line(tmp_path: Path) -> None:
    path = _variant(tmp_path, {}, {"weight": "heavy"})
    env = {"WASPADA_POLICY": str(path), "WASPADA_PSEUDONYM_KEY": "k" * 32, "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-m", "services.triage"], env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"waspada: configuration error: {path}: rules.0.weight: Input should be a valid integer, unable to parse "
        "string as an integer"
    ]


def test_a_pattern_that_backtracks_in_python_matches_in_linear_time() -> None:
    """``(\\w+\\s*)*!`` takes Python's ``re`` exponential time on a long report without "!"; RE2 answers."""
    condition = Condition(field="description", matches=r"^(\w+\s*)*!$")
    report = "tawaran kerja ke luar negeri gaji besar " * 5
    assert condition.test(report) is False
    assert condition.test(report + "!") is True


def test_a_key_the_policy_does_not_use_is_refused(tmp_path: Path) -> None:
    # repeat_limit was validated but read by nobody (notify's WASPADA_ESCALATION_REPEATS decides): it is refused now
    text = (CONFIG_DIR / "policy.yaml").read_text(encoding="utf-8") + "repeat_limit: 3\n"
    path = tmp_path / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigFileError, match=r"repeat_limit: Extra inputs are not permitted"):
        read_config(path, Policy)
