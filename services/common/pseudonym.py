"""Keyed pseudonyms for personal identifiers (reporters, travellers, recruiters).

NIK and phone numbers are enumerable, so a plain hash would be reversible by brute force: we use
HMAC-SHA256 with ``WASPADA_PSEUDONYM_KEY``. Identifiers are normalised first so that one person
links across events and channels: phone numbers to E.164 (Indonesian 08… → +628…), passport
numbers and NIK to upper case without spaces or dashes, names case-folded with single spaces.
"""

import functools
import hmac
import re
from typing import Literal

from schemas.events import PSEUDONYM_PATTERN, DepartureAnomaly, InputEvent, RecruiterSighting, Reporter

Kind = Literal["phone", "document", "name", "handle"]

_PHONE = re.compile(r"^\+?[\d\s().\-]{6,24}$")
_PSEUDONYM = re.compile(PSEUDONYM_PATTERN)
_NON_DIGIT = re.compile(r"\D")
_DOCUMENT_PUNCTUATION = re.compile(r"[\s.\-]")


def normalise_phone(raw: str) -> str:
    """E.164 for Indonesian numbers written the local ways (0812…, 62812…, +62 812-…)."""
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
    return bool(_PHONE.match(raw.strip()))


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
    normalised = _NORMALISE[kind](value)
    mac = _keyed(key).copy()
    mac.update(f"{kind}:{normalised}".encode())
    return "psn_" + mac.digest()[:16].hex()


def is_pseudonym(value: str) -> bool:
    """True for a value that is already a keyed pseudonym (an upstream publisher made it)."""
    return bool(_PSEUDONYM.match(value))


def _traveller(key: bytes, value: str) -> str:
    """Passport number or NIK: always a document, never a phone (a 16-digit NIK looks like one)."""
    return value if is_pseudonym(value) else pseudonym(key, "document", value)


def _recruiter(key: bytes, value: str) -> str:
    """Alias or phone number: phones in E.164 so one recruiter links across spellings."""
    if is_pseudonym(value):
        return value
    return pseudonym(key, "phone" if looks_like_phone(value) else "handle", value)


def _reporter(key: bytes, reporter: str | Reporter | None) -> str | None:
    if reporter is None or isinstance(reporter, str):
        return reporter
    if reporter.phone is not None:
        return pseudonym(key, "phone", reporter.phone)
    return pseudonym(key, "name", reporter.name or "")


def pseudonymised_fields(event: InputEvent, key: bytes) -> dict[str, str | None]:
    """The personal-identifier fields of ``event``, each as its keyed pseudonym (or None)."""
    changes: dict[str, str | None] = {"reporter": _reporter(key, event.reporter)}
    if isinstance(event, DepartureAnomaly):
        changes["traveller"] = _traveller(key, event.traveller)
    elif isinstance(event, RecruiterSighting):
        changes["recruiter"] = _recruiter(key, event.recruiter)
    return changes


def pseudonymise(event: InputEvent, key: bytes) -> InputEvent:
    """A copy of ``event`` whose every personal identifier is a keyed pseudonym."""
    return event.model_copy(update=pseudonymised_fields(event, key))
