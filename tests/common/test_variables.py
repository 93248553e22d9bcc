"""The registry of ``WASPADA_*`` names (services/common/variables.py) against what the tree reads.

It is written by hand so that no service imports another's settings; these tests are what keeps it true:
a field added to a settings class, an ``os.environ`` read added to the devstack, or a name that nothing
reads any more, and one of them fails.
"""

import os
import re
from collections.abc import Iterator
from pathlib import Path

from services.common.settings import REPO_ROOT, CommonSettings
from services.common.variables import AWAITED, KNOWN, PLAIN, REMOVED, SERVICES, SETTINGS, environment_problems
from services.config_docs import CLASSES

NAME = re.compile(r"\bWASPADA_[A-Z][A-Z0-9_]*[A-Z0-9]\b")
SUFFIXES = {".py", ".yaml", ".yml", ".md", ".toml", ".sh", ".cfg", ".ini", ".txt"}
PLAIN_NAMES = {"Makefile", "Dockerfile"}
SKIPPED_DIRS = {".git", ".venv", ".run", ".mypy_cache", ".ruff_cache", ".pytest_cache", "node_modules", "build"}
SKIPPED_FILES = {
    "services/common/variables.py",  # the registry
    "docs/configuration.md",  # what is generated from it
    "docs/CONTRACT.md",  # the external contract names variables of capabilities not built yet
}
MISSPELT_ON_PURPOSE = {"WASPADA_SMPT_URL", "WASPADA_REDIS_URI", "WASPADA_ZZZ", "WASPADA_QQQQ"}
"""The examples of the README and the strictness tests (issue 24's own two first)."""


def _tree_files() -> Iterator[Path]:
    """The repository's text files, without virtualenvs, caches and the files that only mirror the registry."""
    for root, dirs, files in os.walk(REPO_ROOT):
        dirs[:] = [d for d in dirs if d not in SKIPPED_DIRS and not d.endswith(".egg-info")]
        for name in files:
            path = Path(root) / name
            wanted = path.suffix in SUFFIXES or name in PLAIN_NAMES
            if wanted and str(path.relative_to(REPO_ROOT)) not in SKIPPED_FILES:
                yield path


def _names_in_tree() -> dict[str, set[str]]:
    """Every literal ``WASPADA_*`` name in the tree, with the files it appears in."""
    found: dict[str, set[str]] = {}
    for path in _tree_files():
        for name in NAME.findall(path.read_text(encoding="utf-8", errors="replace")):
            found.setdefault(name, set()).add(str(path.relative_to(REPO_ROOT)))
    return found


def _env_names(cls: type[CommonSettings]) -> set[str]:
    return {f"WASPADA_{name.upper()}" for name in cls.model_fields}


def test_the_registry_lists_exactly_the_fields_of_each_settings_class() -> None:
    assert tuple(CLASSES) == SERVICES
    for reader, cls in CLASSES.items():
        registered = {name for name, readers in SETTINGS.items() if reader in readers}
        assert _env_names(cls) - registered == set(), f"{cls.__name__} reads names the registry lacks for {reader}"
        assert registered - _env_names(cls) == set(), f"the registry says {reader} reads names {cls.__name__} lacks"


def test_every_settings_class_in_the_tree_is_known() -> None:
    """A settings class the registry test does not look at would read names nobody checks."""
    declared = set()
    for path in _tree_files():
        if path.suffix == ".py":
            text = path.read_text(encoding="utf-8")
            declared |= set(re.findall(r"^class (\w+)\([^)]*\b(?:CommonSettings|BaseSettings)\b", text, re.M))
    assert declared == {cls.__name__ for cls in CLASSES.values()} | {"CommonSettings"}


def test_every_name_the_tree_mentions_is_known_or_removed() -> None:
    allowed = KNOWN | set(REMOVED) | MISSPELT_ON_PURPOSE
    unknown = {name: files for name, files in _names_in_tree().items() if name not in allowed}
    assert unknown == {}, "add them to services/common/variables.py (SETTINGS or PLAIN), or fix the spelling"


def _port_names() -> dict[str, set[str]]:
    """The ``WASPADA_<NAME>_PORT`` names that the launcher and the image's health check build from a
    list (``f"WASPADA_{name.upper()}_PORT"``), which no literal scan can see."""
    from deploy.docker.healthcheck import PORTS
    from devstack.__main__ import SERVICES as LAUNCHED

    names = {f"WASPADA_{name.upper()}_PORT": {"devstack/__main__.py"} for name in LAUNCHED}
    for name in PORTS:
        names.setdefault(f"WASPADA_{name}_PORT", set()).add("deploy/docker/healthcheck.py")
    return names


def test_every_port_name_built_at_run_time_is_known() -> None:
    """``WASPADA_SINK_PORT=9100 make run`` moves the sink, and every service gets it too: refusing it would
    stop them all."""
    assert {name: files for name, files in _port_names().items() if name not in KNOWN} == {}


def test_every_name_read_outside_the_settings_is_still_read_somewhere() -> None:
    in_tree = _names_in_tree() | _port_names()
    stale = sorted(name for name in PLAIN if name not in in_tree and name not in AWAITED)
    assert stale == [], "nothing reads these any more: remove them from PLAIN (or move them to REMOVED)"
    assert set(SETTINGS) & set(PLAIN) == set() and KNOWN & set(REMOVED) == set()


def test_the_check_names_unknown_and_removed_variables_only() -> None:
    environ = {
        "PATH": "/bin",
        "WASPADA_CHANNELS": "x",
        "waspada_smtp_url": "smtp://mail:25",  # pydantic-settings reads it too: known
        "WASPADA_SMPT_URL": "x",
        "WASPADA_SESSION_SECRET": "x",
    }
    assert environment_problems(environ) == [
        "WASPADA_SESSION_SECRET is no longer read: console sessions are random ids kept in Valkey, nothing signs them",
        "WASPADA_SMPT_URL is not a Waspada setting (did you mean WASPADA_SMTP_URL?)",
    ]
    assert environment_problems({"WASPADA_QQQQ": "1"}) == [
        "WASPADA_QQQQ is not a Waspada setting (docs/configuration.md lists them)"
    ]
