"""Keyed pseudonyms for personal identifiers (reporters, travellers, recruiters, and those in free text).

NIK and phone numbers are enumerable, so a plain hash would be reversible by brute force: we use
HMAC-SHA256 with ``WASPADA_PSEUDONYM_KEY``. Identifiers are normalised first so that one person
links across events, channels and fields: phone numbers to E.164 as libphonenumber reads them
(``phones.py``; Indonesia by default, so 08… → +628…), passport numbers and NIK to upper case
without spaces or dashes, names case-folded with single spaces; every kind after Unicode NFKC and
without invisible format characters (``canonical``). Whole events are made safe in
``deidentify.py``.
"""

import functools
import hmac
import re
import unicodedata
from typing import Literal

from schemas.events import PSEUDONYM_PATTERN
from services.common.phones import e164, valid_number

Kind = Literal["phone", "document", "name", "handle"]

_PHONE = re.compile(r"^\+?[\d\s().\-]{6,24}$")
_PSEUDONYM = re.compile(PSEUDONYM_PATTERN)
_NON_DIGIT = re.compile(r"\D")
_DOCUMENT_PUNCTUATION = re.compile(r"[\s.\-]")


def canonical(raw: str) -> str:
    """One spelling per identifier whatever the keyboard: NFKC (fullwidth ``０８１２`` is ``0812``, ``ｎａｍａ`` is
    ``nama``) and no invisible format characters (zero-width space and joiners, BOM, soft hyphen: Unicode's Cf),
    which a copy from a chat app carries and which would otherwise give the same person another pseudonym."""
    folded = unicodedata.normalize("NFKC", raw)
    return "".join(ch for ch in folded if unicodedata.category(ch) != "Cf")


def normalise_phone(raw: str) -> str:
    """E.164 of the valid number ``raw`` spells (+60123456789 for 60123456789, +6281… for 0812…).

    A number libphonenumber finds invalid keeps the spelling it always had (Indonesian unless it
    starts with ``+`` or ``62``), so its pseudonym stays the same as before phonenumbers was used.
    """
    number = valid_number(raw)
    if number is not None:
        return e164(number)
    digits = _NON_DIGIT.sub("", raw)
    if raw.strip().startswith("+"):
        return "+" + digits
    if digits.startswith("0"):
        return "+62" + digits[1:]
    if digits.startswith("62"):
        return "+" + digits
    return "+62" + digits


def normalise_document(raw: str) -> str:
    """Passport number or NIK: upper case, no spaces, dots or dashes."""
    return _DOCUMENT_PUNCTUATION.sub("", raw).upper()


def normalise_name(raw: str) -> str:
    """Case-folded, single-spaced."""
    return " ".join(raw.casefold().split())


def looks_like_phone(raw: str) -> bool:
    """True for strings made of digits and phone punctuation only."""
    return bool(_PHONE.match(canonical(raw).strip()))


_NORMALISE = {
    "phone": normalise_phone,
    "document": normalise_document,
    "name": normalise_name,
    "handle": normalise_name,
}


@functools.lru_cache(maxsize=8)
def _keyed(key: bytes) -> "hmac.HMAC":
    """An HMAC already keyed with ``key``: copying it skips the key schedule every digest repeats."""
    return hmac.new(key, digestmod="sha256")


def pseudonym(key: bytes, kind: Kind, value: str) -> str:
    """``psn_`` + 32 hex digits of HMAC-SHA256(key, kind:normalised value)."""
    normalised = _NORMALISE[kind](canonical(value))
    mac = _keyed(key).copy()
    mac.update(f"{kind}:{normalised}".encode())
    return "psn_" + mac.digest()[:16].hex()


def is_pseudonym(value: str) -> bool:
    """True for a value that is already a keyed pseudonym (an upstream publisher made it)."""
    return bool(_PSEUDONYM.match(value))
