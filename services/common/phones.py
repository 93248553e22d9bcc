"""Reading a phone number the way libphonenumber (``phonenumbers``) does, Indonesia by default.

One reading for every place a number shows up (``reporter.phone``, a recruiter given as a number,
a number typed into a description), so that one recruiter's number has one pseudonym wherever it
was written. Hand-written rules got foreign numbers wrong: ``60123456789`` (Malaysia written
without ``+``, as WhatsApp's wa.me links write every number) became ``+6260123456789``.

A number written without ``+`` and without the trunk ``0`` is ambiguous: ``85512345678`` is both
Cambodia's ``+855 12 345 678`` and Indonesia's ``0855-1234-5678``. The rule, in this order:
``62…`` is Indonesian; a reading that libphonenumber finds valid beats one it does not; a mobile
beats a fixed line (recruiters are reached on WhatsApp); otherwise Indonesia, the default region.
"""

import re
from typing import Final

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumber, PhoneNumberFormat, PhoneNumberType

DEFAULT_REGION: Final = "ID"
INDONESIA_CODE: Final = "62"
_NON_DIGIT = re.compile(r"\D")
_MOBILE = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})


def _parsed(text: str, region: str | None) -> PhoneNumber | None:
    """``text`` parsed, when libphonenumber finds it a valid number; None otherwise."""
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException:
        return None
    return number if phonenumbers.is_valid_number(number) else None


def _is_mobile(number: PhoneNumber) -> bool:
    return phonenumbers.number_type(number) in _MOBILE


def _bare(digits: str) -> PhoneNumber | None:
    """Digits with neither ``+`` nor trunk ``0``: an Indonesian national number or a foreign E.164 one."""
    local = _parsed(digits, DEFAULT_REGION)
    if digits.startswith(INDONESIA_CODE):
        return local
    foreign = _parsed("+" + digits, None)
    if local is None or foreign is None:
        return local or foreign
    return foreign if _is_mobile(foreign) and not _is_mobile(local) else local


def valid_number(raw: str) -> PhoneNumber | None:
    """The valid number ``raw`` spells (module docstring for the ambiguous spellings), or None."""
    text = raw.strip()
    digits = _NON_DIGIT.sub("", text)
    if text.startswith("+") or digits.startswith("0"):
        return _parsed(text, DEFAULT_REGION)
    return _bare(digits)


def e164(number: PhoneNumber) -> str:
    """``+`` country code and national number, no spaces: the one spelling pseudonyms are made of."""
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)
