"""Loading the YAML configuration files (channels, directory, policy) with one clear error."""

import sys
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


class ConfigFileError(Exception):
    """A configuration file that is missing, unparseable or invalid; the message names the spot."""


def read_config(path: Path, model: type[M]) -> M:
    """Parse ``path`` as YAML and validate it as ``model``; ConfigFileError names file and field."""
    try:
        raw: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigFileError(f"{path}: cannot read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigFileError(f"{path}: not valid YAML: {exc}".replace("\n", " ")) from None
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"]) or "(top level)"
        raise ConfigFileError(f"{path}: {where}: {error['msg']}") from None


def load_config_or_exit(path: Path, model: type[M]) -> M:
    """``read_config`` for service start-up: a bad file stops the process with one line."""
    try:
        return read_config(path, model)
    except ConfigFileError as exc:
        print(f"waspada: configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
