"""The settings every service shares, and the fail-fast loader.

Each service has exactly one pydantic-settings class that extends ``CommonSettings``.
``load_settings`` turns a missing or invalid variable or file into one clear line on stderr and
exit code 2, instead of a traceback (CONTRACT §2).
"""

import difflib
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, TypeVar

from pydantic import AfterValidator, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.common.variables import KNOWN, REMOVED

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


def unknown_variable(environ: Mapping[str, str]) -> str | None:
    """What is wrong with the first ``WASPADA_*`` variable no part of Waspada reads, or None.

    A misspelt variable must not fall back to its default unnoticed: SMPT_URL for SMTP_URL would
    skip every e-mail channel, REDIS_URI for REDIS_URL would send notify to a Valkey on localhost.
    """
    for name in sorted(n for n in environ if n.startswith("WASPADA_")):
        if name in REMOVED:
            return f"{name} is no longer read: use {REMOVED[name]}"
        if name not in KNOWN:
            nearest = difflib.get_close_matches(name, KNOWN, n=1, cutoff=0.6)
            hint = f" (did you mean {nearest[0]}?)" if nearest else ""
            return f"{name} is not a Waspada setting{hint}"
    return None


def load_settings(cls: type[S]) -> S:
    """Build ``cls`` from the environment or stop the process with one line naming the culprit."""
    problem = unknown_variable(os.environ)
    if problem is not None:
        print(f"waspada: configuration error: {problem}", file=sys.stderr)
        raise SystemExit(2)
    try:
        return cls()
    except ValidationError as exc:
        error = exc.errors()[0]
        name = "WASPADA_" + "_".join(str(part) for part in error["loc"]).upper()
        print(f"waspada: configuration error: {name}: {error['msg']}", file=sys.stderr)
        raise SystemExit(2) from None
