"""The Kemendagri region table (83,763 villages and kelurahan; ODbL, see data/wilayah/README.md).

Used to validate ``desa_code`` and to name the desa, kecamatan, kabupaten and provinsi of an
escalation. Loaded once per process (about 0.2 s) and held in memory as plain dicts.
"""

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

WILAYAH_DIR = Path(__file__).resolve().parent.parent / "data" / "wilayah"


@dataclass(frozen=True, slots=True)
class Region:
    """A village with the names of the units above it."""

    desa_code: str
    desa_name: str
    kecamatan: str
    kabupaten: str
    provinsi: str


class RegionTable:
    """Codes and names of every province, regency, district and village."""

    def __init__(self, directory: Path = WILAYAH_DIR) -> None:
        self.provinces = self._names(directory / "provinces.csv")
        self.regencies = self._names(directory / "regencies.csv")
        self.districts = self._names(directory / "districts.csv")
        self.villages = self._names(directory / "villages.csv")

    @staticmethod
    def _names(path: Path) -> dict[str, str]:
        with path.open(newline="", encoding="utf-8") as handle:
            return {row["code"]: row["name"] for row in csv.DictReader(handle)}

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and (
            code in self.villages or code in self.districts or code in self.regencies or code in self.provinces
        )

    def village(self, desa_code: str) -> Region:
        """The village and its parents; KeyError for a code not in the table."""
        name = self.villages[desa_code]
        return Region(
            desa_code=desa_code,
            desa_name=name,
            kecamatan=self.districts[desa_code[:8]],
            kabupaten=self.regencies[desa_code[:5]],
            provinsi=self.provinces[desa_code[:2]],
        )

    def villages_under(self, prefix: str) -> list[str]:
        """Every village code that starts with ``prefix`` (a province, regency or district code)."""
        return [code for code in self.villages if code == prefix or code.startswith(prefix + ".")]


@lru_cache(maxsize=1)
def region_table() -> RegionTable:
    """The shipped table, loaded on first use."""
    return RegionTable()
