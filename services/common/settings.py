"""The settings every service shares, and the fail-fast loader.

Each service has exactly one pydantic-settings class that extends ``CommonSettings``.
``load_settings`` turns a missing or invalid variable or file into one clear line on stderr and
exit code 2, instead of a traceback (CONTRACT §2).
"""

import sys
from pathlib import Path
from typing import Annotated, TypeVar

from pydantic import AfterValidator, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[2]
CONFIG_DIR = REPO_ROOT / "config"


def _existing_file(path: Path) -> Path:
    if not path.is_file():
        raise ValueError(f"file not found: {path}")
    return path


ExistingFile = Annotated[Path, AfterValidator(_existing_file)]


def _strong_key(key: SecretStr) -> SecretStr:
    if len(key.get_secret_value()) < 16:
        raise ValueError("must be at least 16 characters")
    return key


PseudonymKey = Annotated[SecretStr, AfterValidator(_strong_key)]
"""``WASPADA_PSEUDONYM_KEY``: the HMAC key of personal-identifier pseudonyms."""


class CommonSettings(BaseSettings):
    """Variables all three services read, prefix ``WASPADA_``."""

    model_config = SettingsConfigDict(env_prefix="WASPADA_", extra="ignore")

    kafka_bootstrap: str = Field(default="localhost:9092", pattern=r"^[\w.\-]+:\d+(,[\w.\-]+:\d+)*$")
    redis_url: str = Field(default="redis://localhost:6379/0", pattern=r"^rediss?://")
    kafka_idempotent_producer: bool = Field(
        default=False, description="Turn on with real Kafka; the embedded broker cannot do it"
    )
    kafka_replication_factor: int = Field(
        default=1, ge=1, description="Replicas of the topics a service creates (its own and Faust's changelogs)"
    )
    log_level: str = Field(default="INFO", pattern=r"^(DEBUG|INFO|WARNING|ERROR)$")
    log_json: bool = True


S = TypeVar("S", bound=BaseSettings)


def load_settings(cls: type[S]) -> S:
    """Build ``cls`` from the environment or stop the process with one line naming the culprit."""
    try:
        return cls()
    except ValidationError as exc:
        error = exc.errors()[0]
        name = "WASPADA_" + "_".join(str(part) for part in error["loc"]).upper()
        print(f"waspada: configuration error: {name}: {error['msg']}", file=sys.stderr)
        raise SystemExit(2) from None
