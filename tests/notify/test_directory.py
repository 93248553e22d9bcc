"""The shipped directory: every village of the covered regions routes to one Polres and one Kanim, as the CSV says."""

import csv
import hashlib
from pathlib import Path

import pytest
import yaml

from devstack import build_directory
from devstack.demo_tokens import office_token
from schemas.regions import region_table
from services.common.config_files import ConfigFileError, read_config
from services.common.settings import CONFIG_DIR
from services.notify.core.directory import Directory

DIRECTORY = CONFIG_DIR / "directory.yaml"
REGIONS = ("36", "32.01", "32.71", "62.71", "62.03", "62.11")


@pytest.fixture(scope="module")
def directory() -> Directory:
    return read_config(DIRECTORY, Directory)


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    with build_directory.CSV_PATH.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def desks() -> list[dict[str, str]]:
    return build_directory.read_rows(build_directory.DESKS_PATH)


def test_every_village_routes_to_exactly_one_police_and_one_immigration_office(directory: Directory) -> None:
    villages = [v for prefix in REGIONS for v in region_table().villages_under(prefix)]
    assert len(villages) > 2000
    for village in villages:
        route = directory.route(village)
        assert sorted(o.agency for o in route.offices) == ["imigrasi", "polri"], village


def _office_id(cell: str) -> str:
    return build_directory.IDS[build_directory.first_name(cell)]


def test_every_village_lands_where_the_csv_says(directory: Directory, rows: list[dict[str, str]]) -> None:
    by_code = {r["region_code"]: r for r in rows}
    checked = 0
    for prefix in REGIONS[1:] + tuple(c for c in by_code if c.startswith("36.") and c.count(".") == 1):
        for village in region_table().villages_under(prefix):
            row = next(by_code[c] for c in (village, village[:8], village[:5]) if c in by_code)
            route = {o.agency: o.id for o in directory.route(village).offices}
            assert route == {"polri": _office_id(row["polres"]), "imigrasi": _office_id(row["kantor_imigrasi"])}, (
                village
            )
            checked += 1
    assert checked > 2000


@pytest.mark.parametrize(
    ("village", "polres", "polda", "kanim"),
    [
        ("36.04.13.2007", "polres-serang", "polda-banten", "kanim-serang"),  # Desa Lontar, Tirtayasa
        ("36.04.05.2001", "polresta-serang-kota", "polda-banten", "kanim-serang"),  # Kramatwatu
        ("36.04.30.2001", "polres-cilegon", "polda-banten", "kanim-serang"),  # Anyar
        ("36.03.13.2001", "polres-metro-tangerang-kota", "polda-metro-jaya", "kanim-tangerang"),  # Teluknaga
        ("36.03.17.1001", "polres-tangerang-selatan", "polda-metro-jaya", "kanim-tangerang"),  # Curug
        ("36.03.01.1001", "polresta-tangerang", "polda-banten", "kanim-tangerang"),  # Balaraja
        ("32.01.13.1007", "polres-metro-depok", "polda-metro-jaya", "kanim-bogor"),  # Bojonggede
        ("32.01.37.2001", "polres-metro-depok", "polda-metro-jaya", "kanim-bogor"),  # Tajurhalang
        ("32.01.01.1002", "polres-bogor", "polda-jabar", "kanim-bogor"),  # Karadenan, Cibinong
        ("36.72.01.1001", "polres-cilegon", "polda-banten", "kanim-cilegon"),
        ("62.11.01.2001", "polres-pulang-pisau", "polda-kalteng", "kanim-palangka-raya"),
    ],
)
def test_the_splits(directory: Directory, village: str, polres: str, polda: str, kanim: str) -> None:
    assert village in region_table().villages, village
    route = {o.agency: o for o in directory.route(village).offices}
    assert (route["polri"].id, route["polri"].parent, route["imigrasi"].id) == (polres, polda, kanim)


def test_unlisted_kab_serang_kecamatan_is_flagged_uncertain(directory: Directory) -> None:
    baros = directory.route("36.04.22.2001")
    assert [o.id for o in baros.offices] == ["kanim-serang", "polres-serang"]
    assert baros.uncertain and [o.id for o in baros.also] == ["polresta-serang-kota"]
    assert not directory.route("36.04.13.2007").uncertain
    assert not directory.route("32.01.01.1002").uncertain, "Kab. Bogor's split is fully known"


def test_every_office_of_the_csv_is_there_with_its_demo_token_and_a_sink_endpoint(
    directory: Directory, rows: list[dict[str, str]], desks: list[dict[str, str]]
) -> None:
    named = {_office_id(r[col]) for r in rows for col in ("polres", "polda", "kantor_imigrasi", "kanwil")}
    named |= {build_directory.IDS[r["office"]] for r in desks}
    ids = {o.id for o in directory.offices}
    assert named | {"polresta-bandara-soekarno-hatta", "kanim-soekarno-hatta"} == ids
    for office in directory.offices:
        assert office.token_sha256 == hashlib.sha256(office_token(office.id).encode()).hexdigest()
        webhook = next(c for c in office.channels if c.type == "webhook")
        assert webhook.url == f"http://127.0.0.1:8099/hooks/{office.id}"
    assert any(c.type == "email" for o in directory.offices for c in o.channels)


def test_the_shipped_file_is_what_the_generator_makes(rows: list[dict[str, str]], desks: list[dict[str, str]]) -> None:
    assert DIRECTORY.read_text(encoding="utf-8") == build_directory.render(rows, desks), (
        "config/directory.yaml is stale: run python -m devstack.build_directory"
    )


def _broken(tmp_path: Path, change: str) -> str:
    data = yaml.safe_load(DIRECTORY.read_text(encoding="utf-8"))
    offices = {o["id"]: o for o in data["offices"]}
    if change == "parent":
        offices["polres-serang"]["parent"] = "polda-atlantis"
    elif change == "prefix":
        offices["polresta-serang-kota"]["jurisdiction"].append("36.04.13")
    elif change == "code":
        offices["polres-bogor"]["jurisdiction"].append("32.01.99")
    elif change == "cycle":
        offices["polda-banten"]["parent"] = "polres-serang"
    elif change == "uncertain":
        data["uncertain"][0]["also_notify"] = ["polres-nowhere"]
    elif change == "no_desk":
        offices["ditjenim-wasdakim"]["fallback"] = False
    elif change == "two_desks":
        offices["polda-banten"]["fallback"] = True
    elif change == "desk_prefix":
        offices["bareskrim-ppa-ppo"]["jurisdiction"] = ["53"]
    path = tmp_path / "directory.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(ConfigFileError) as error:
        read_config(path, Directory)
    return str(error.value)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("parent", "office polres-serang: unknown parent 'polda-atlantis'"),
        ("prefix", "offices polres-serang and polresta-serang-kota of agency polri both claim prefix 36.04.13"),
        ("code", "office polres-bogor: jurisdiction code 32.01.99 is not in the region table"),
        ("cycle", "its parents form a cycle"),
        ("uncertain", "uncertain 36.04: unknown office 'polres-nowhere' in also_notify"),
        ("no_desk", "no national desk for agency imigrasi: add one office with fallback: true"),
        ("two_desks", "agency polri has 2 national desks (polda-banten, bareskrim-ppa-ppo); at most one"),
        ("desk_prefix", "office bareskrim-ppa-ppo: a national desk (fallback: true) holds no jurisdiction prefix"),
    ],
)
def test_an_inconsistent_directory_is_refused_with_a_clear_error(tmp_path: Path, change: str, message: str) -> None:
    assert message in _broken(tmp_path, change)


# -- national desks (CONTRACT §6: no report goes unheard) -----------------------------------------
DESKS = {"polri": "bareskrim-ppa-ppo", "imigrasi": "ditjenim-wasdakim"}


def test_the_shipped_desks_are_the_real_national_offices(directory: Directory) -> None:
    desks = {o.agency: o for o in directory.offices if o.fallback}
    assert {a: o.id for a, o in desks.items()} == DESKS
    assert desks["polri"].name == "Dittipid PPA-PPO Bareskrim Polri"
    assert desks["imigrasi"].name == "Direktorat Pengawasan dan Penindakan Keimigrasian, Ditjen Imigrasi"
    assert all(o.jurisdiction == () and o.parent is None for o in desks.values())


def test_an_ntt_village_goes_to_both_national_desks(directory: Directory) -> None:
    village = "53.01.04.2003"  # Bokonusan, Kec. Semau, Kab. Kupang, NTT
    assert village in region_table().villages
    route = directory.route(village)
    assert [o.id for o in route.offices] == [DESKS["imigrasi"], DESKS["polri"]]
    assert route.fallback == ("imigrasi", "polri")
    assert route.also == () and not route.uncertain


def test_desa_lontar_goes_to_its_own_offices_only(directory: Directory) -> None:
    route = directory.route("36.04.13.2007")
    assert [o.id for o in route.offices] == ["kanim-serang", "polres-serang"]
    assert route.fallback == ()


def test_an_agency_without_an_office_for_the_village_falls_back_alone(tmp_path: Path) -> None:
    """A kabupaten with a Polres but no Kantor Imigrasi in the directory: only the imigrasi desk stands in."""
    data = yaml.safe_load(DIRECTORY.read_text(encoding="utf-8"))
    offices = {o["id"]: o for o in data["offices"]}
    offices["kanim-palangka-raya"]["jurisdiction"].remove("62.03")  # Kab. Kapuas
    path = tmp_path / "directory.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    route = read_config(path, Directory).route(region_table().villages_under("62.03")[0])
    assert [o.id for o in route.offices] == [DESKS["imigrasi"], "polres-kapuas"]
    assert route.fallback == ("imigrasi",)


def test_every_village_of_the_region_table_reaches_one_office_per_agency(directory: Directory) -> None:
    """Every 7th of the 83,763 villages (all provinces), so that none can route to nobody."""
    villages = list(region_table().villages)[::7]
    assert len({v[:2] for v in villages}) >= 38
    for village in villages:
        assert sorted(o.agency for o in directory.route(village).offices) == ["imigrasi", "polri"], village
