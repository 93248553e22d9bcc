"""Builds config/directory.yaml from data/offices/ (``python -m devstack.build_directory``).

The CSV is the researched source (office names, kecamatan splits, confidence, sources); the YAML
is what notify loads. Generating one from the other keeps them from drifting apart. Endpoints
point at the local sink of ``make run`` and tokens/secrets are public demo values derived from
the office id (devstack/demo_tokens.py), so a deployment replaces the ``channels`` and
``token_sha256`` of every office and nothing else.

Rules (DOMAIN.md §2, data/offices/README.md):
- A kabupaten/kota row gives its prefix to the first office named in each column (for a split
  kabupaten that is the office holding most kecamatan: the default).
- A kecamatan (or desa) row gives its prefix to the office named in it, so the most specific
  row wins at routing time.
- In a split kabupaten whose police split is not fully known (the kabupaten row's police
  confidence is not ``high``: Kab. Serang), a village in a kecamatan without a row goes to the
  default Polres *and*, flagged "jurisdiction uncertain", to the Polres whose share is
  unconfirmed (DOMAIN §2.5: notify the candidates rather than guess).
- Polresta Bandara Soekarno-Hatta and Kanim Kelas I Khusus TPI Soekarno-Hatta police and check
  the airport zone, which is not a village: they are in the directory (tokens, console, parents)
  with no village prefix, so no village escalation is routed to them.
- Each row of national_desks.csv is its agency's national desk (``fallback: true``, no prefix, no
  parent): it gets every village the CSV gives no office of that agency (CONTRACT §6).
"""

import base64
import csv
import hashlib
import hmac
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from devstack.demo_tokens import office_token
from services.common.settings import CONFIG_DIR, REPO_ROOT

CSV_PATH = REPO_ROOT / "data" / "offices" / "jurisdictions.csv"
DESKS_PATH = REPO_ROOT / "data" / "offices" / "national_desks.csv"
SINK = "http://127.0.0.1:8099"
DEMO_SECRET_SEED = b"waspada-demo-webhook-secrets-not-for-production"
EMAIL_OFFICES = {"kanim-serang": "piket.kanim-serang@waspada.invalid"}
"""Offices that also get e-mail (the SMTP path of ``make run`` and the tests); ``.invalid`` never resolves."""

IDS = {
    "Polda Banten": "polda-banten",
    "Polda Metro Jaya": "polda-metro-jaya",
    "Polda Jawa Barat": "polda-jabar",
    "Polda Kalimantan Tengah": "polda-kalteng",
    "Polres Pandeglang": "polres-pandeglang",
    "Polres Lebak": "polres-lebak",
    "Polresta Tangerang": "polresta-tangerang",
    "Polres Metro Tangerang Kota": "polres-metro-tangerang-kota",
    "Polres Tangerang Selatan": "polres-tangerang-selatan",
    "Polres Serang": "polres-serang",
    "Polresta Serang Kota": "polresta-serang-kota",
    "Polres Cilegon": "polres-cilegon",
    "Polresta Bandara Soekarno-Hatta": "polresta-bandara-soekarno-hatta",
    "Polres Bogor": "polres-bogor",
    "Polres Metro Depok": "polres-metro-depok",
    "Polresta Bogor Kota": "polresta-bogor-kota",
    "Polresta Palangka Raya": "polresta-palangka-raya",
    "Polres Kapuas": "polres-kapuas",
    "Polres Pulang Pisau": "polres-pulang-pisau",
    "Kantor Wilayah Direktorat Jenderal Imigrasi Banten": "kanwil-imigrasi-banten",
    "Kantor Wilayah Direktorat Jenderal Imigrasi Jawa Barat": "kanwil-imigrasi-jabar",
    "Kantor Wilayah Direktorat Jenderal Imigrasi Kalimantan Tengah": "kanwil-imigrasi-kalteng",
    "Kantor Imigrasi Kelas I Non TPI Serang": "kanim-serang",
    "Kantor Imigrasi Kelas I Non TPI Tangerang": "kanim-tangerang",
    "Kantor Imigrasi Kelas II TPI Cilegon": "kanim-cilegon",
    "Kantor Imigrasi Kelas I Khusus TPI Soekarno-Hatta": "kanim-soekarno-hatta",
    "Kantor Imigrasi Kelas I Non TPI Bogor": "kanim-bogor",
    "Kantor Imigrasi Kelas I Non TPI Palangka Raya": "kanim-palangka-raya",
    "Dittipid PPA-PPO Bareskrim Polri": "bareskrim-ppa-ppo",
    "Direktorat Pengawasan dan Penindakan Keimigrasian, Ditjen Imigrasi": "ditjenim-wasdakim",
}
AIRPORT = {
    "Polresta Bandara Soekarno-Hatta": "Polda Metro Jaya",
    "Kantor Imigrasi Kelas I Khusus TPI Soekarno-Hatta": "Kantor Wilayah Direktorat Jenderal Imigrasi Banten",
}


@dataclass
class OfficeDraft:
    name: str
    agency: str
    parent: str | None = None
    prefixes: list[str] = field(default_factory=list)
    fallback: bool = False


def first_name(cell: str) -> str:
    """The office a cell names first: the text before the first ``(`` or ``;``."""
    return re.split(r"\s*[(;]", cell, maxsplit=1)[0].strip()


def top_level_parts(cell: str) -> list[str]:
    """``cell`` split at the semicolons outside parentheses."""
    parts, depth, current = [], 0, ""
    for char in cell:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == ";" and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += char
    return [*parts, current.strip()]


def _polda_of(row: dict[str, str]) -> str:
    return first_name(row["polda"])


def _add(drafts: dict[str, OfficeDraft], name: str, agency: str, parent: str | None) -> OfficeDraft:
    if name not in IDS:
        raise SystemExit(f"build_directory: no id for office {name!r}: add it to IDS")
    draft = drafts.setdefault(name, OfficeDraft(name=name, agency=agency))
    if parent is not None and draft.parent is None:
        draft.parent = parent
    return draft


def drafts_from(rows: list[dict[str, str]]) -> dict[str, OfficeDraft]:
    """Every office of the CSV with its parent and prefixes."""
    drafts: dict[str, OfficeDraft] = {}
    # kecamatan rows first, so a Polres takes its Polda from a row that names exactly one
    for row in sorted(rows, key=lambda r: -len(r["region_code"])):
        code, polres, kanim = row["region_code"], first_name(row["polres"]), first_name(row["kantor_imigrasi"])
        split_polda = ";" in row["polda"]
        polda, kanwil = _polda_of(row), first_name(row["kanwil"])
        _add(drafts, polda, "polri", None)
        _add(drafts, kanwil, "imigrasi", None)
        _add(drafts, polres, "polri", None if split_polda else IDS[polda]).prefixes.append(code)
        kanim_draft = _add(drafts, kanim, "imigrasi", IDS[kanwil])
        if code.count(".") == 1:
            kanim_draft.prefixes.append(code)
    for name, parent in AIRPORT.items():
        _add(drafts, name, "polri" if name.startswith("Polres") else "imigrasi", IDS[parent])
    return drafts


def desk_drafts(desks: list[dict[str, str]]) -> list[OfficeDraft]:
    """The national desks: no prefix, no parent."""
    for row in desks:
        if row["office"] not in IDS:
            raise SystemExit(f"build_directory: no id for national desk {row['office']!r}: add it to IDS")
    return [OfficeDraft(name=row["office"], agency=row["agency"], fallback=True) for row in desks]


@dataclass
class UncertainDraft:
    prefix: str
    also_notify: list[str]
    note: str


def uncertain_entries(rows: list[dict[str, str]], drafts: dict[str, OfficeDraft]) -> list[UncertainDraft]:
    """Split kabupaten whose police split is not fully known: candidates for their unlisted kecamatan."""
    entries: list[UncertainDraft] = []
    for row in rows:
        code = row["region_code"]
        if code.count(".") != 1 or "polres:high" in row["confidence"]:
            continue
        candidates = [
            IDS[first_name(part)]
            for part in top_level_parts(row["polres"])
            if re.search(r"unconfirmed|not confirmed", part) and first_name(part) in IDS
        ]
        if candidates:
            names = ", ".join(drafts[n].name for n in drafts if IDS[n] in candidates)
            note = f"{row['region_name']}: a kecamatan without a row of its own may belong to {names} (DOMAIN.md §2.6)"
            entries.append(UncertainDraft(prefix=code, also_notify=candidates, note=note))
    return entries


def demo_secret(office_id: str) -> str:
    """A stable public demo secret: ``whsec_`` + base64 of 24 bytes derived from the office id."""
    key = hmac.new(DEMO_SECRET_SEED, office_id.encode(), hashlib.sha256).digest()[:24]
    return "whsec_" + base64.b64encode(key).decode()


def _office_yaml(draft: OfficeDraft) -> list[str]:
    office_id = IDS[draft.name]
    token = hashlib.sha256(office_token(office_id).encode()).hexdigest()
    prefixes = ", ".join(f'"{p}"' for p in sorted(set(draft.prefixes)))
    lines = [
        f"  - id: {office_id}",
        f"    name: {draft.name}",
        f"    agency: {draft.agency}",
        f"    parent: {draft.parent or 'null'}",
        f"    jurisdiction: [{prefixes}]",
        f"    token_sha256: {token}",
        "    channels:",
        f'      - {{type: webhook, url: "{SINK}/hooks/{office_id}", secret: "{demo_secret(office_id)}"}}',
    ]
    if office_id in EMAIL_OFFICES:
        lines.append(f'      - {{type: email, to: "{EMAIL_OFFICES[office_id]}"}}')
    lines.append("    min_severity: MEDIUM")
    return [*lines, "    fallback: true"] if draft.fallback else lines


HEADER = """\
# Jurisdiction directory (CONTRACT §6), GENERATED from data/offices/jurisdictions.csv and
# national_desks.csv by `python -m devstack.build_directory`: edit the CSVs or the
# generator, not this file.
# Office names are real; every endpoint points at the local webhook sink of `make run`; tokens
# are SHA-256 of the public demo tokens `demo-<office-id>-token` and secrets are public demo
# values. A deployment replaces `token_sha256` and `channels` of every office.
# Routing: per agency, the most specific prefix wins (a kecamatan entry beats its kabupaten).
# The airport offices (Polresta Bandara Soekarno-Hatta, Kanim Soekarno-Hatta) hold no village.
# The national desks (`fallback: true`, one per agency) get every village no office of their
# agency holds: most of Indonesia (NTT and NTB included), flagged as such to the desk.
"""


def render(rows: list[dict[str, str]], desks: list[dict[str, str]]) -> str:
    """The directory YAML text: the offices of ``rows`` (jurisdictions.csv), then the ``desks`` (national_desks.csv)."""
    drafts = drafts_from(rows)
    order = sorted(drafts.values(), key=lambda d: (d.agency != "polri", d.parent is not None, IDS[d.name]))
    lines = [HEADER.rstrip("\n"), "offices:"]
    for draft in [*order, *desk_drafts(desks)]:
        lines += _office_yaml(draft)
    entries = uncertain_entries(rows, drafts)
    lines.append("uncertain:" if entries else "uncertain: []")
    for entry in entries:
        lines += [
            f'  - prefix: "{entry.prefix}"',
            "    agency: polri",
            f"    also_notify: [{', '.join(entry.also_notify)}]",
            f'    note: "{entry.note}"',
        ]
    return "\n".join(lines) + "\n"


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def main() -> None:
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else CONFIG_DIR / "directory.yaml"
    target.write_text(render(read_rows(CSV_PATH), read_rows(DESKS_PATH)), encoding="utf-8")
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
