"""The settings every service shares, and the fail-fast loader.

Each service has exactly one pydantic-settings class that extends ``CommonSettings``.
``load_settings`` turns an unknown, missing or invalid variable or file into one clear line on stderr
and exit code 2, instead of a traceback (CONTRACT §2). The field docstrings are the descriptions of
``docs/configuration.md`` (``make config-docs``): write them for the operator.
"""

import os
import sys
from pathlib import Path
from typing import Annotated, NoReturn, TypeVar

from pydantic import AfterValidator, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.common.variables import environment_problems

REPO_ROOT = Path(__file__).resolve().parents[2]
CONFIG_DIR = REPO_ROOT / "config"


def _existing_file(path: Path) -> Path:
    """an existing file"""
    if not path.is_file():
        raise ValueError(f"file not found: {path}")
    return path


ExistingFile = Annotated[Path, AfterValidator(_existing_file)]


def _strong_key(key: SecretStr) -> SecretStr:
    """at least 16 characters"""
    if len(key.get_secret_value()) < 16:
        raise ValueError("must be at least 16 characters")
    return key


PseudonymKey = Annotated[
    SecretStr,
    AfterValidator(_strong_key),
    Field(description="HMAC key of personal-identifier pseudonyms: the same in every component that reads it."),
]
"""``WASPADA_PSEUDONYM_KEY``: the HMAC key of personal-identifier pseudonyms."""


class CommonSettings(BaseSettings):
    """Variables all three services read, prefix ``WASPADA_``.

    ``extra="forbid"`` refuses a misspelt keyword in code (tests, the bench); pydantic-settings never
    sees unknown environment variables, which ``load_settings`` checks against the registry instead.
    """

    model_config = SettingsConfigDict(env_prefix="WASPADA_", extra="forbid", use_attribute_docstrings=True)

    kafka_bootstrap: str = Field(default="localhost:9092", pattern=r"^[\w.\-]+:\d+(,[\w.\-]+:\d+)*$")
    """Kafka's bootstrap servers, ``host:port[,host:port]``."""
    redis_url: str = Field(default="redis://localhost:6379/0", pattern=r"^rediss?://")
    """Valkey (or Redis): ``redis://`` or ``rediss://``, with the password when it has one."""
    kafka_idempotent_producer: bool = True
    """Idempotent Kafka producers (a retried send is never written twice), as Apache Kafka in production runs them;
    ``false`` only for the embedded broker (Tansu), which has no idempotent producer (``make run`` sets it)."""
    kafka_replication_factor: int = Field(default=1, ge=1)
    """Replicas of the topics a service creates, its own and Faust's changelogs (3 on a three-broker
    cluster: aiokafka cannot ask for the broker's default)."""
    log_level: str = Field(default="INFO", pattern=r"^(DEBUG|INFO|WARNING|ERROR)$")
    """Level of the service's own log lines."""
    log_json: bool = True
    """One JSON object per log line (``false``: human-readable lines for a terminal)."""


S = TypeVar("S", bound=BaseSettings)


def load_settings(cls: type[S]) -> S:
    """Build ``cls`` from the environment or stop the process with one line naming the culprit.

    Unknown variables are checked first: a misspelt name is often why a required one is missing,
    and "did you mean" says so where "Field required" would not.
    """
    problems = environment_problems(os.environ)
    if problems:
        _stop("; ".join(problems))
    try:
        return cls()
    except ValidationError as exc:
        error = exc.errors()[0]
        name = "WASPADA_" + "_".join(str(part) for part in error["loc"]).upper()
        _stop(f"{name}: {error['msg']}")


def _stop(message: str) -> NoReturn:
    """The one line on stderr and exit status 2 (a configuration error, not a crash)."""
    print(f"waspada: configuration error: {message}", file=sys.stderr)
    raise SystemExit(2) from None
