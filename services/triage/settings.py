"""Triage's one settings class (CONTRACT §2)."""

from pathlib import Path

from pydantic import Field

from services.common.settings import CONFIG_DIR, CommonSettings, ExistingFile, PseudonymKey


class TriageSettings(CommonSettings):
    """``WASPADA_*`` variables triage reads."""

    pseudonym_key: PseudonymKey
    policy: ExistingFile = CONFIG_DIR / "policy.yaml"
    """The scoring policy (YAML), validated at start."""
    triage_port: int = 8001
    """Triage's HTTP port (health and metrics)."""
    triage_host: str = "127.0.0.1"
    """Address triage listens on (the image sets ``0.0.0.0``)."""
    triage_data_dir: Path = Path("/tmp/waspada-triage")
    """Faust's data directory (the worker's local files; the tables themselves are in memory, rebuilt from
their changelogs)."""
    triage_stall_after_s: float = Field(default=30.0, gt=0)
    """``/healthz`` answers 503 once messages have waited this long without the agent progressing."""
    triage_app_id: str = "waspada-triage"
    """Consumer group and changelog prefix; change it only to run a second, separate pipeline."""
