"""Keyed pseudonyms for personal identifiers (reporters, travellers, recruiters).

NIK and phone numbers are enumerable, so a plain hash would be reversible by brute force: we use
HMAC-SHA256 with ``WASPADA_PSEUDONYM_KEY``. Identifiers are normalised first so that one person
links across events and channels: phone numbers to E.164 (Indonesian 08… → +628…), passport
numbers and NIK to upper case without spaces or dashes, names case-folded with single spaces.
"""

import hashlib
import hmac
import re
from typing import Literal

from schemas.events import DepartureAnomaly, InputEvent, RecruiterSighting, Reporter

Kind = Literal["phone", "document", "name", "handle"]

_PHONE = re.compile(r"^\+?[\d\s().\-]{6,24}$")


def normalise_phone(raw: str) -> str:
    """E.164 for Indonesian numbers written the local ways (0812…, 62812…, +62 812-…)."""
    digits = re.sub(r"\D", "", raw)
    if raw.strip().startswith("+"):
        return "+" + digits
    if digits.startswith("0"):
        return "+62" + digits[1:]
    if digits.startswith("62"):
        return "+" + digits
    return "+62" + digits


def normalise_document(raw: str) -> str:
    """Passport number or NIK: upper case, no spaces, dots or dashes."""
    return re.sub(r"[\s.\-]", "", raw).upper()


def normalise_name(raw: str) -> str:
    """Case-folded, single-spaced."""
    return " ".join(raw.casefold().split())


def looks_like_phone(raw: str) -> bool:
    """True for strings made of digits and phone punctuation only."""
    return bool(_PHONE.match(raw.strip()))


def pseudonym(key: bytes, kind: Kind, value: str) -> str:
    """``psn_`` + 32 hex digits of HMAC-SHA256(key, kind:normalised value)."""
    normalised = {
        "phone": normalise_phone,
        "document": normalise_document,
        "name": normalise_name,
        "handle": normalise_name,
    }[kind](value)
    digest = hmac.new(key, f"{kind}:{normalised}".encode(), hashlib.sha256).hexdigest()
    return "psn_" + digest[:32]


def _person(key: bytes, value: str, *, document: bool) -> str:
    if value.startswith("psn_") and len(value) == 36:
        return value
    if looks_like_phone(value):
        return pseudonym(key, "phone", value)
    return pseudonym(key, "document" if document else "handle", value)


def _reporter(key: bytes, reporter: str | Reporter | None) -> str | None:
    if reporter is None or isinstance(reporter, str):
        return reporter
    if reporter.phone is not None:
        return pseudonym(key, "phone", reporter.phone)
    return pseudonym(key, "name", reporter.name or "")


def pseudonymise(event: InputEvent, key: bytes) -> InputEvent:
    """A copy of ``event`` whose every personal identifier is a keyed pseudonym."""
    changes: dict[str, object] = {"reporter": _reporter(key, event.reporter)}
    if isinstance(event, DepartureAnomaly):
        changes["traveller"] = _person(key, event.traveller, document=True)
    elif isinstance(event, RecruiterSighting):
        changes["recruiter"] = _person(key, event.recruiter, document=False)
    return event.model_copy(update=changes)
