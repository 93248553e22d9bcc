"""Triage's one settings class (CONTRACT §2)."""

from pathlib import Path

from services.common.settings import CONFIG_DIR, CommonSettings, ExistingFile, PseudonymKey


class TriageSettings(CommonSettings):
    """``WASPADA_*`` variables triage reads."""

    pseudonym_key: PseudonymKey
    policy: ExistingFile = CONFIG_DIR / "policy.yaml"
    triage_port: int = 8001
    triage_host: str = "127.0.0.1"
    triage_data_dir: Path = Path("/tmp/waspada-triage")
    triage_app_id: str = "waspada-triage"
    """Consumer group and changelog prefix; change it only to run a second, separate pipeline."""
