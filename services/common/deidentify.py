"""An event with no personal data in clear: identifiers pseudonymised, free text scrubbed.

Ingest and the publisher client do this before a record is built (``envelope.py``); triage does it
for records a direct publisher put on an input topic in clear. Both go through ``deidentified``,
so an event looks the same on the topic whichever way it came, and the pseudonym of a number is
the same in ``recruiter``, in ``reporter.phone`` and in a description.
"""

from collections import Counter
from dataclasses import dataclass

from schemas.events import DepartureAnomaly, InputEvent, RecruiterSighting, Reporter
from services.common.pseudonym import is_pseudonym, looks_like_phone, pseudonym
from services.common.scrub import Rule, may_hold_personal_data, scrub


@dataclass(frozen=True, slots=True)
class Deidentified:
    """The fields to replace in an event, and how many identifiers each scrub rule found in its free text."""

    fields: dict[str, str | None]
    scrubbed: Counter[Rule]


def has_clear_personal_data(event: InputEvent) -> bool:
    """True when a structured identifier is in clear or free text may hold one; cheap (see ``scrub``)."""
    return event.has_clear_identifiers() or any(may_hold_personal_data(t) for t in event.free_text().values())


def deidentified(event: InputEvent, key: bytes) -> Deidentified:
    """Every personal-identifier field of ``event`` as its keyed pseudonym, every free-text field scrubbed."""
    fields: dict[str, str | None] = {"reporter": _reporter(key, event.reporter)}
    if isinstance(event, DepartureAnomaly):
        fields["traveller"] = _traveller(key, event.traveller)
    elif isinstance(event, RecruiterSighting):
        fields["recruiter"] = _recruiter(key, event.recruiter)
    found: Counter[Rule] = Counter()
    for name, text in event.free_text().items():
        result = scrub(text, key)
        if result.found:
            fields[name] = result.text
            found.update(result.found)
    return Deidentified(fields, found)


def deidentify(event: InputEvent, key: bytes) -> tuple[InputEvent, Counter[Rule]]:
    """A copy of ``event`` with no personal data in clear, and what its free text held."""
    result = deidentified(event, key)
    return event.model_copy(update=result.fields), result.scrubbed


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
