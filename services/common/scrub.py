"""Personal data in free text (``description``, ``promised_job``) replaced by keyed pseudonyms.

Reporters type phone numbers, NIK, passport numbers and e-mail addresses into descriptions; each
is replaced by the same ``psn_…`` pseudonym the structured fields get (``pseudonym.py``, same
normalisation), so a recruiter's number in a description links to the sighting that names it as
``recruiter`` and is never readable on a topic, in triage's state or in an escalation.

Rules, tried in this order where two overlap: an existing ``psn_`` token (kept: scrubbing is
idempotent), an e-mail address, a NIK (16 digits, whole or in 4-4-4-4 / 6-6-4 groups), an
Indonesian passport number (a letter and 7 digits, "A1234567", "X 1234567": the 7 digits must
stand alone, so years and amounts never match), a valid number written as bare digits
("60123456789", "81234567890": read as ``phones.py`` reads it), then every number libphonenumber's
PhoneNumberMatcher finds (any country's format, Indonesia by default; leniency VALID, so dates,
amounts like "Rp 5.000.000" and years are not numbers). The patterns run on RE2: linear time, so
no description can stall triage's agent.

Cost: ``may_hold_personal_data`` is a substring test and one regex (1-4 µs on 200 characters);
only a text with "@" or a run of 7+ digits (outside ``psn_`` tokens, and not an amount such as
"15.000.000" or a date such as "12-03-2026") pays for the patterns and PhoneNumberMatcher, which is
pure Python: about 150 µs for a 200-character text with one number. Digits other than ASCII are
not looked for.
"""

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final, Literal, NamedTuple

import re2
from phonenumbers import Leniency, PhoneNumberMatcher

from services.common.phones import DEFAULT_REGION, valid_number
from services.common.pseudonym import Kind, pseudonym

Rule = Literal["phone", "nik", "passport", "email"]
RULES: Final[tuple[Rule, ...]] = ("phone", "nik", "passport", "email")
_KIND: Final[dict[Rule, Kind]] = {"phone": "phone", "nik": "document", "passport": "document", "email": "handle"}
"""An e-mail is a ``handle``: the pseudonym of an address given as ``recruiter`` (case-folded) too."""

_TOKEN = re.compile(r"psn_[0-9a-f]{32}")
_DIGIT_RUN = re.compile(r"[0-9](?:[\s().\-]{0,3}[0-9]){6,}")  # ASCII: [0-9] scans twice as fast as \d
_DIALLED = re.compile(r"(?<![0-9])(?:\+\s?|\(?0)[0-9](?:[\s().\-]{0,3}[0-9]){5,}")
"""A number as people dial it: after a '+' or a trunk '0'. PhoneNumberMatcher (leniency VALID) finds
no other in Indonesia's default region (bare digits are the ``bare`` pattern's), and costs ~250 µs
to find nothing in "Laporan nomor 667831634": so only a text with one of these pays for it."""
_AMOUNT_OR_DATE = re.compile(r"[1-9][0-9]{0,2}(?:\.[0-9]{3})+|[0-9]{1,2}([-./])[0-9]{1,2}\1[0-9]{4}")
"""A whole digit run that is "15.000.000" or "12-03-2026": common in reports, never an identifier."""
_NIK_GROUPS = "|".join(  # one separator throughout: "0800-1000 2924-4800" is two numbers, not a NIK
    rf"\d{{4}}{sep}\d{{4}}{sep}\d{{4}}{sep}\d{{4}}|\d{{6}}{sep}\d{{6}}{sep}\d{{4}}" for sep in (" ", r"\.", "-")
)
_PATTERNS = re2.compile(
    "|".join(
        (
            r"(?P<token>psn_[0-9a-f]{32})",
            r"(?P<email>[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,})",
            rf"(?P<nik>\b(?:\d{{16}}|{_NIK_GROUPS})\b)",
            r"(?P<passport>\b[A-Za-z][ \-]?\d{7}\b)",
            r"(?:^|[^\w+])(?P<bare>[1-9]\d{9,14})\b",  # digits that do not follow a '+' or a word
        )
    )
)

_BARE: Final = _PATTERNS.groupindex["bare"]  # google-re2's start()/end() take a group number only
_PATTERN_RULES: Final[dict[str, Rule]] = {"email": "email", "nik": "nik", "passport": "passport"}


class _Span(NamedTuple):
    start: int
    end: int
    rule: Rule | None  # None: an existing psn_ token, kept as it is
    value: str


@dataclass(frozen=True, slots=True)
class Scrubbed:
    """A text with its personal data replaced, and how many of each rule it held."""

    text: str
    found: Counter[Rule]


def may_hold_personal_data(text: str) -> bool:
    """Cheap pre-check (a few µs on a 200-character text): an "@", or a run of 7+ digits."""
    return "@" in text or _has_digit_run(text)


def _has_digit_run(text: str) -> bool:
    """7+ digits with at most 3 separators between two, outside tokens, that are no amount or date."""
    if "psn_" in text:
        text = _TOKEN.sub("_", text)
    return any(not _AMOUNT_OR_DATE.fullmatch(m.group()) for m in _DIGIT_RUN.finditer(text))


def scrub(text: str, key: bytes) -> Scrubbed:
    """``text`` with every phone number, NIK, passport number and e-mail address as its keyed pseudonym."""
    if not may_hold_personal_data(text):
        return Scrubbed(text, Counter())
    patterns = list(_pattern_spans(text))
    spans = sorted([*patterns, *_phone_spans(text, patterns)])
    found: Counter[Rule] = Counter(s.rule for s in spans if s.rule is not None)
    return Scrubbed(_replaced(text, spans, key) if found else text, found)


def _pattern_spans(text: str) -> Iterator[_Span]:
    for match in _PATTERNS.finditer(text):
        group = match.lastgroup
        if group == "token":
            yield _Span(match.start(), match.end(), None, match.group())
        elif group == "bare":
            raw = match.group(_BARE)
            if valid_number(raw) is not None:  # PhoneNumberMatcher wants a '+' or a trunk '0' here
                yield _Span(match.start(_BARE), match.end(_BARE), "phone", raw)
        elif group in _PATTERN_RULES:
            yield _Span(match.start(), match.end(), _PATTERN_RULES[group], match.group())


def _phone_spans(text: str, taken: list[_Span]) -> Iterator[_Span]:
    """Numbers in any country's format between the spans already taken (so a second pass sees what the
    first saw); the raw spelling, which ``pseudonym`` normalises like a structured field."""
    start = 0
    for end, after in [*((s.start, s.end) for s in taken), (len(text), len(text))]:
        gap = text[start:end]
        if _DIALLED.search(gap) and _has_digit_run(gap):
            for match in PhoneNumberMatcher(gap, DEFAULT_REGION, leniency=Leniency.VALID):
                yield _Span(start + match.start, start + match.end, "phone", match.raw_string)
        start = after


def _replaced(text: str, spans: list[_Span], key: bytes) -> str:
    parts: list[str] = []
    at = 0
    for span in spans:
        parts.append(text[at : span.start])
        parts.append(span.value if span.rule is None else pseudonym(key, _KIND[span.rule], span.value))
        at = span.end
    parts.append(text[at:])
    return "".join(parts)
