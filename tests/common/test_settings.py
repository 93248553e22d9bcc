"""An unknown, missing or invalid variable or file stops a service at start with one clear line naming it."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from services.common.settings import CONFIG_DIR, REPO_ROOT
from services.notify.settings import NotifySettings


def _run(module: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("WASPADA_")}
    return subprocess.run(
        [sys.executable, "-m", module],
        env={**clean, **env},
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_missing_channels_variable_is_named_in_one_line() -> None:
    result = _run("services.ingest", {"WASPADA_PSEUDONYM_KEY": "x" * 32})
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["waspada: configuration error: WASPADA_CHANNELS: Field required"]


def test_short_pseudonym_key_is_refused() -> None:
    result = _run("services.triage", {"WASPADA_PSEUDONYM_KEY": "short"})
    assert result.returncode == 2
    assert "WASPADA_PSEUDONYM_KEY" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_invalid_channel_file_is_named(tmp_path) -> None:
    bad = tmp_path / "channels.yaml"
    bad.write_text("channels:\n  - id: x\n    token_sha256: nothex\n")
    result = _run(
        "services.ingest",
        {"WASPADA_PSEUDONYM_KEY": "x" * 32, "WASPADA_CHANNELS": str(bad), "WASPADA_KAFKA_BOOTSTRAP": "127.0.0.1:1"},
    )
    assert result.returncode == 2
    line = result.stderr.strip().splitlines()
    assert len(line) == 1 and str(bad) in line[0] and "channels.0" in line[0]


def test_missing_directory_file_is_named(tmp_path) -> None:
    result = _run("services.notify", {"WASPADA_DIRECTORY": str(tmp_path / "nope.yaml")})
    assert result.returncode == 2
    assert "WASPADA_DIRECTORY" in result.stderr and "nope.yaml" in result.stderr


# Unknown variables (issue 18 item 3, issue 24 item 6): the environment is shared by every component,
# so only a name that none of them reads is refused. The bad names below are deliberate (and listed as
# such in tests/common/test_variables.py).


@pytest.mark.parametrize("module", ["services.ingest", "services.triage", "services.notify"])
def test_an_unknown_variable_stops_the_service_with_the_nearest_name(module: str) -> None:
    result = _run(module, {"WASPADA_SMPT_URL": "smtp://mail:25"})
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "waspada: configuration error: WASPADA_SMPT_URL is not a Waspada setting (did you mean WASPADA_SMTP_URL?)"
    ]


def test_every_unknown_variable_is_named_in_the_one_line() -> None:
    result = _run("services.notify", {"WASPADA_REDIS_URI": "redis://elsewhere:6379/0", "WASPADA_ZZZ": "1"})
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "waspada: configuration error: WASPADA_REDIS_URI is not a Waspada setting (did you mean WASPADA_REDIS_URL?); "
        "WASPADA_ZZZ is not a Waspada setting (docs/configuration.md lists them)"
    ]


def test_variables_other_components_read_are_accepted(tmp_path: Path) -> None:
    """Ingest's, triage's, the publisher's, the tests' and the test bed's names pass notify's check: the only
    complaint left is notify's own missing directory."""
    others = {
        "WASPADA_CHANNELS": str(CONFIG_DIR / "channels.yaml"),
        "WASPADA_PSEUDONYM_KEY": "x" * 32,
        "WASPADA_POLICY": str(CONFIG_DIR / "policy.yaml"),
        "WASPADA_TRIAGE_APP_ID": "other",
        "WASPADA_PUBLISHER_CHANNEL": "batch",
        "WASPADA_FAULTS_LONG": "1",
        "WASPADA_KAFKA_REPLICATION_FACTOR": "3",
        "WASPADA_DIRECTORY": str(tmp_path / "nope.yaml"),
    }
    result = _run("services.notify", others)
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("waspada: configuration error: WASPADA_DIRECTORY: ") and "nope.yaml" in line


@pytest.mark.parametrize("name", ["WASPADA_RETRY_MAX_S", "WASPADA_DELIVERY_ATTEMPTS"])
def test_a_removed_variable_says_what_replaced_it(name: str) -> None:
    result = _run("services.notify", {name: "16", "WASPADA_DIRECTORY": str(CONFIG_DIR / "directory.yaml")})
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"waspada: configuration error: {name} is no longer read: set WASPADA_RETRY_SCHEDULE_S (waits in seconds)"
    ]


def test_a_misspelt_keyword_in_code_is_refused() -> None:
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        NotifySettings(directory=CONFIG_DIR / "directory.yaml", smtp_ur="smtp://mail:25")  # type: ignore[call-arg]
