"""A missing or invalid variable or file stops a service at start with one clear line naming it."""

import os
import subprocess
import sys

from services.common.settings import REPO_ROOT


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
