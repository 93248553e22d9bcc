"""A misspelt or removed ``WASPADA_*`` variable stops a service at start; the list of known ones stays true."""

import re
from pathlib import Path

from pydantic_settings import BaseSettings

from services.common.settings import REPO_ROOT, unknown_variable
from services.common.variables import KNOWN, REMOVED
from services.ingest.settings import IngestSettings
from services.notify.settings import NotifySettings
from services.publisher.cli import PublisherSettings
from services.triage.settings import TriageSettings
from tests.common.test_settings import _run

SETTINGS: tuple[type[BaseSettings], ...] = (IngestSettings, TriageSettings, NotifySettings, PublisherSettings)
_LITERAL = re.compile(r"WASPADA_[A-Z0-9_]*[A-Z0-9]")


def _fields() -> set[str]:
    return {"WASPADA_" + name.upper() for cls in SETTINGS for name in cls.model_fields}


def _literals() -> set[str]:
    """Every ``WASPADA_X`` spelt in the project's code and manifests (not this mechanism's own tests)."""
    paths = [
        p for top in ("services", "devstack", "bench", "tests", "deploy") for p in Path(REPO_ROOT, top).rglob("*.py")
    ]
    paths += [*Path(REPO_ROOT, "deploy").rglob("*.yaml"), *Path(REPO_ROOT, "deploy").rglob("*.yml")]
    paths += [Path(REPO_ROOT, name) for name in ("docker-compose.yml", "Makefile", "Dockerfile")]
    found: set[str] = set()
    for path in paths:
        if path.name != "test_variables.py":
            found |= set(_LITERAL.findall(path.read_text(encoding="utf-8")))
    return found


def test_every_setting_of_every_service_is_known() -> None:
    assert _fields() - KNOWN.keys() == set()


def test_every_known_variable_is_read_somewhere() -> None:
    outside = KNOWN.keys() - _fields()
    spelt = _literals() | {"WASPADA_SINK_PORT"}  # devstack reads WASPADA_{NAME}_PORT for each of its ports
    assert outside - spelt == set(), "known but read by nothing: remove it"


def test_every_variable_the_code_spells_is_known_or_removed() -> None:
    assert _literals() - KNOWN.keys() - REMOVED.keys() - {"WASPADA_"} == set()


def test_a_misspelling_names_the_nearest_known_variable() -> None:
    assert unknown_variable({"WASPADA_SMPT_URL": "smtp://x:25"}) == (
        "WASPADA_SMPT_URL is not a Waspada setting (did you mean WASPADA_SMTP_URL?)"
    )
    assert unknown_variable({"WASPADA_REDIS_URI": "redis://x"}) == (
        "WASPADA_REDIS_URI is not a Waspada setting (did you mean WASPADA_REDIS_URL?)"
    )


def test_a_variable_of_another_service_is_no_error() -> None:
    assert unknown_variable({"WASPADA_DIRECTORY": "d.yaml", "WASPADA_CHANNELS": "c.yaml", "HOME": "/root"}) is None


def test_a_removed_variable_says_what_replaced_it() -> None:
    assert unknown_variable({"WASPADA_DELIVERY_ATTEMPTS": "8"}) == (
        "WASPADA_DELIVERY_ATTEMPTS is no longer read: use " + REMOVED["WASPADA_DELIVERY_ATTEMPTS"]
    )
    assert REMOVED["WASPADA_DELIVERY_ATTEMPTS"].startswith("WASPADA_RETRY_SCHEDULE_S")


def test_a_service_started_with_a_misspelt_variable_stops_with_one_line() -> None:
    result = _run("services.notify", {"WASPADA_SMPT_URL": "smtp://127.0.0.1:25"})
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "waspada: configuration error: WASPADA_SMPT_URL is not a Waspada setting (did you mean WASPADA_SMTP_URL?)"
    ]
