"""The metrics catalogue of docs/operations.md, parsed, so that the tests hold code and documentation together."""

import re
from dataclasses import dataclass
from pathlib import Path

from services.common.settings import REPO_ROOT

CATALOGUE = REPO_ROOT / "docs" / "operations.md"
EXTERNAL_METRICS = frozenset({"kafka_consumergroup_lag", "up"})
"""Series the dashboards and rules use that no Waspada service exposes (docs/operations.md, "Metrics")."""


@dataclass(frozen=True)
class CatalogueEntry:
    """One row of the table: ``metric | type | labels | exposed by | meaning``."""

    name: str
    type: str
    labels: frozenset[str]
    services: frozenset[str]
    meaning: str


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _names(cell: str) -> frozenset[str]:
    return frozenset(re.findall(r"`([^`]+)`", cell))


def catalogue(readme: Path = CATALOGUE) -> dict[str, CatalogueEntry]:
    """Metric name → entry, from the first table of the "## Metrics" section of docs/operations.md."""
    text = readme.read_text(encoding="utf-8")
    section = text.split("\n## Metrics\n", 1)[1].split("\n## ", 1)[0]
    entries: dict[str, CatalogueEntry] = {}
    for line in section.splitlines():
        cells = _cells(line)
        if len(cells) != 5 or not cells[0].startswith("`waspada_"):
            continue
        name = cells[0].strip("`")
        services = frozenset(s.strip() for s in cells[3].split(","))
        entries[name] = CatalogueEntry(name, cells[1], _names(cells[2]), services, cells[4])
    return entries
