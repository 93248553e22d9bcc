"""config/desa_binaan.yaml: the shipped registry loads against the shipped directory; a bad entry stops, named."""

from pathlib import Path

import pytest

from services.common.config_files import ConfigFileError, read_config
from services.common.settings import CONFIG_DIR
from services.notify.core.desa_binaan import WrongOffice, kanim_of, load
from services.notify.core.directory import Directory

SHIPPED = CONFIG_DIR / "desa_binaan.yaml"


@pytest.fixture(scope="module")
def directory() -> Directory:
    return read_config(CONFIG_DIR / "directory.yaml", Directory)


def test_the_shipped_registry_holds_the_villages_the_public_reports_name(directory: Directory) -> None:
    registry = load(SHIPPED, kanim_of(directory))
    assert "36.04.13.2007" in registry.codes()  # Desa Lontar, Tirtayasa
    assert registry.in_area("62.71.01") + registry.in_area("62.71.03") == 10  # Pahandut and Jekan Raya
    assert registry.in_area("62.11") == 1 and registry.in_area("36.04.13") == 1
    assert all(v.source.startswith(("http", "banten.")) for v in registry.villages)


def _write(tmp_path: Path, entry: str) -> Path:
    path = tmp_path / "desa_binaan.yaml"
    path.write_text(f"version: 1\nvillages:\n  - {entry}\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            '{desa_code: "36.04.13.9999", office: kanim-serang, designated_on: "2023", source: "https://x.example"}',
            r"villages\.0\.desa_code: Value error, unknown village code '36\.04\.13\.9999'",
        ),
        (
            '{desa_code: "36.04.13.2007", office: kanim-serang, designated_on: "2023-13", source: "https://x.example"}',
            r"villages\.0\.designated_on: Value error, expected YYYY-MM-DD, YYYY-MM or YYYY",
        ),
        (
            '{desa_code: "36.04.13.2007", office: kanim-serang, designated: "2023", source: "https://x.example"}',
            r"villages\.0\.designated_on: Field required",
        ),
    ],
)
def test_a_bad_entry_is_refused_naming_the_field(
    tmp_path: Path, directory: Directory, entry: str, message: str
) -> None:
    with pytest.raises(ConfigFileError, match=message):
        load(_write(tmp_path, entry), kanim_of(directory))


def test_an_office_that_does_not_hold_the_village_is_refused(tmp_path: Path, directory: Directory) -> None:
    wrong = '{desa_code: "36.04.13.2007", office: kanim-bogor, designated_on: "2023", source: "https://x.example"}'
    with pytest.raises(
        WrongOffice,
        match=r"villages\.0\.office: 'kanim-bogor' for 36\.04\.13\.2007, but the directory gives it to kanim-serang",
    ):
        load(_write(tmp_path, wrong), kanim_of(directory))
    outside = '{desa_code: "53.01.04.2003", office: kanim-serang, designated_on: "2023", source: "https://x.example"}'
    with pytest.raises(WrongOffice, match="no Kantor Imigrasi of the directory holds it"):
        load(_write(tmp_path, outside), kanim_of(directory))


def test_a_village_listed_twice_is_refused(tmp_path: Path, directory: Directory) -> None:
    entry = '{desa_code: "36.04.13.2007", office: kanim-serang, designated_on: "2023", source: "https://x.example"}'
    path = tmp_path / "desa_binaan.yaml"
    path.write_text(f"version: 1\nvillages:\n  - {entry}\n  - {entry}\n", encoding="utf-8")
    with pytest.raises(ConfigFileError, match=r"36\.04\.13\.2007 is listed twice"):
        load(path, kanim_of(directory))
