"""Why near-duplicates are found with rapidfuzz ``token_sort_ratio``: measured on Indonesian reports.

Each base report has variants an officer would call "the same report" (typos, "Rp 12" vs "Rp12",
synonyms, reordered sentences) and different reports that must never merge (another job,
another country, a short report contained in a longer different one, the same topic with other
facts). The chosen method must separate the two sets with a margin; the alternatives we weighed
must fail somewhere, or the choice would not be justified.
"""

import hashlib
import itertools
from datetime import timedelta

import pytest
from rapidfuzz import fuzz

from services.triage.dedup import comparable_text, near_duplicates, normalise, similarity
from services.triage.policy import Policy
from tests.triage.conftest import NOW, Village, departure, person, sighting, tip

BASE = {
    "darto": "Seorang pria bernama Pak Darto datang ke rumah-rumah warga RT 03 menawarkan pekerjaan sebagai admin "
    "di Kamboja dengan gaji Rp12 juta per bulan. Syaratnya hanya paspor dan bisa mengetik. Tiket pesawat "
    "ditanggung perusahaan.",
    "remaja": "Tiga remaja putri dari Kampung Baru dijanjikan kerja di restoran di Malaysia oleh seorang sponsor. "
    "Mereka akan berangkat minggu depan lewat Batam tanpa dokumen resmi dari Disnaker.",
    "grup": "Ada lowongan kerja di grup WhatsApp desa untuk customer service di Myanmar, gaji 15 juta, tanpa "
    "pengalaman. Beberapa pemuda sudah mendaftar dan menyerahkan fotokopi KTP.",
    "sekap": "Keluarga melapor anaknya yang bekerja di Kamboja disekap di sebuah gedung, ponselnya disita, dan "
    "perusahaan meminta tebusan Rp30 juta agar ia bisa pulang.",
}
NEAR = [
    ("darto", "Seorang pria bernama Pak Darto datang ke rumah rumah warga RT 03 menawarkan pekerjaan sebagai admin "
     "di Kamboja dengan gaji Rp 12 juta per bulan. Syaratnya hanya paspor dan bisa mengetik. Tiket pesawat "
     "ditanggung perusahaan"),
    ("darto", "Syaratnya hanya paspor dan bisa mengetik. Seorang pria bernama Pak Darto datang ke rumah-rumah warga "
     "RT 03 menawarkan pekerjaan sebagai admin di Kamboja dengan gaji Rp12 juta per bulan. Tiket pesawat "
     "ditanggung perusahaan."),
    ("darto", "Seorang laki-laki bernama Pak Darto datang ke rumah-rumah warga RT 03 menawarkan pekerjaan jadi admin "
     "di Kamboja dengan gaji Rp12 juta sebulan. Syaratnya cuma paspor dan bisa mengetik. Tiket pesawat "
     "ditanggung perusahaan."),
    ("remaja", "Mereka akan berangkat minggu depan lewat Batam tanpa dokumen resmi dari Disnaker. Tiga remaja putri "
     "dari Kampung Baru dijanjikan kerja di restoran di Malaysia oleh seorang sponsor."),
    ("remaja", "Tiga remaja putri dari kampung Baru dijanjikan kerja di rumah makan di Malaysia oleh seorang sponsor. "
     "Mereka akan berangkat minggu depan lewat Batam tanpa dokumen resmi dari Disnaker!"),
    ("grup", "ada lowongan kerja di grup WA desa untuk customer service di Myanmar, gaji 15 juta, tanpa pengalaman. "
     "beberapa pemuda sudah mendaftar dan menyerahkan fotokopi KTP"),
    ("sekap", "Keluarga melaporkan anaknya yang bekerja di Kamboja disekap di sebuah gedung, HP-nya disita, dan "
     "perusahaan meminta tebusan Rp30 juta agar ia bisa pulang."),
    ("sekap", "Perusahaan meminta tebusan Rp30 juta agar ia bisa pulang. Keluarga melapor anaknya yang bekerja di "
     "Kamboja disekap di sebuah gedung dan ponselnya disita."),
]  # fmt: skip
DIFFERENT = [
    ("darto", "Seorang wanita datang ke rumah-rumah warga RT 05 menawarkan pekerjaan sebagai pembantu rumah tangga "
     "di Arab Saudi dengan gaji Rp8 juta per bulan. Keluarga diberi uang Rp5 juta di muka."),
    ("darto", "Pak Darto menawarkan kerja admin di Kamboja."),  # short, contained in the long one
    ("darto", "Lowongan admin di Kamboja gaji Rp12 juta beredar di Facebook, syarat hanya paspor. Belum ada warga "
     "yang mendaftar."),
    ("grup", "Ada lowongan kerja di grup Telegram untuk operator judi online di Laos, gaji 9 juta. Dua pemuda sudah "
     "berangkat bulan lalu dan belum bisa dihubungi."),
    ("sekap", "Keluarga melapor anaknya yang bekerja di Malaysia sebagai ABK tidak digaji selama enam bulan dan "
     "paspornya ditahan oleh agen."),
    ("remaja", "Tiga remaja putri dari Kampung Baru sudah pulang dari Malaysia dengan selamat setelah dibantu KBRI."),
]  # fmt: skip


def _pairs(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(normalise(BASE[key]), normalise(text)) for key, text in pairs]


def _simhash(text: str) -> int:
    """64-bit SimHash over word unigrams and bigrams (the classic alternative)."""
    words = text.split()
    features = words + [f"{a} {b}" for a, b in itertools.pairwise(words)]
    totals = [0] * 64
    for feature in features:
        bits = int.from_bytes(hashlib.blake2b(feature.encode(), digest_size=8).digest(), "big")
        for i in range(64):
            totals[i] += 1 if bits >> i & 1 else -1
    return sum(1 << i for i, total in enumerate(totals) if total > 0)


def test_chosen_method_separates_near_duplicates_from_different_reports(policy: Policy) -> None:
    threshold = policy.near_duplicate.min_similarity
    near = [similarity(a, b) for a, b in _pairs(NEAR)]
    different = [similarity(a, b) for a, b in _pairs(DIFFERENT)]
    assert min(near) >= threshold > max(different)
    assert min(near) - max(different) >= 20, "a comfortable margin on both sides of the threshold"
    bases = [normalise(text) for text in BASE.values()]
    assert all(similarity(a, b) < threshold for a in bases for b in bases if a != b)


def test_token_set_ratio_would_merge_a_short_report_into_a_different_long_one() -> None:
    long, short = _pairs([("darto", "Pak Darto menawarkan kerja admin di Kamboja.")])[0]
    assert fuzz.token_set_ratio(long, short) >= 85, "token_set_ratio: subset reads as identical"
    assert not near_duplicates(long, short, 85)


def test_simhash_moves_more_than_three_bits_on_small_edits() -> None:
    distances = [bin(_simhash(a) ^ _simhash(b)).count("1") for a, b in _pairs(NEAR)]
    assert max(distances) > 3, "a 64-bit SimHash with Hamming ≤ 3 misses near-duplicates of short reports"


def test_plain_ratio_fails_on_reordered_sentences() -> None:
    reordered = _pairs([NEAR[1]])[0]
    assert fuzz.ratio(*reordered) < 85 <= similarity(*reordered)


def test_normalise_ignores_case_and_punctuation() -> None:
    assert normalise("HP-nya DISITA!  Rp12 juta.") == "hp nya disita rp12 juta"


def test_reports_naming_different_travellers_never_merge(village: Village) -> None:
    text = "Berangkat bersama sponsor, tiket sekali jalan, mengaku wisata ke Malaysia"
    assert village.feed(departure(traveller=person(1), description=text)).outcome != "merged"
    assert village.feed(departure(traveller=person(2), description=text)).outcome == "recorded"
    assert village.feed(departure(traveller=person(1), description=text + ".")).outcome == "merged"


def test_reports_naming_different_recruiters_never_merge(village: Village) -> None:
    text = "Perekrut datang dari rumah ke rumah menawarkan kerja di kebun sawit Malaysia"
    village.feed(sighting(recruiter=person(5), description=text))
    assert village.feed(sighting(recruiter=person(6), description=text)).outcome == "recorded"


def test_near_duplicates_only_within_the_window_type_and_text(village: Village) -> None:
    text = normalise(BASE["grup"])
    village.feed(tip(description=text))
    assert (
        village.feed(tip(description=text, occurred_at=(NOW + timedelta(hours=25)).isoformat())).outcome == "recorded"
    )
    assert village.feed(sighting(description=text)).outcome == "recorded", "another event type"
    assert village.feed(tip(description=BASE["sekap"])).outcome in {"recorded", "escalated"}


def test_without_description_structured_signature_decides(village: Village) -> None:
    first = departure(traveller=person(3), indicators=["one_way_ticket", "no_epmi"])
    assert comparable_text(first).startswith("§")
    village.feed(first)
    assert village.feed(departure(traveller=person(3), indicators=["no_epmi", "one_way_ticket"])).outcome == "merged"
    assert (
        village.feed(departure(traveller=person(3), indicators=["no_epmi"], checkpoint="TPI-KNO")).outcome == "recorded"
    )


@pytest.mark.parametrize("text", ["", "   "])
def test_blank_description_is_not_text(text: str) -> None:
    assert comparable_text(tip(description=text)).startswith("§")


def test_merged_departure_does_not_count_twice_for_correlation(village: Village) -> None:
    village.feed(sighting(activity=["door_to_door"]))
    village.feed(departure(traveller=person(1)))
    assert village.feed(departure(traveller=person(1))).outcome == "merged"
    assert all("X2" not in str(e) for e in village.published)
