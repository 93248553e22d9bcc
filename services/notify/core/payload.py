"""What a notification says (DOMAIN.md §3.3): the case, its severity and reasons, the place down
to the village, the time window, event counts by type, and a link to the console. Nothing else.

The escalation itself never carries a reporter, traveller or recruiter identifier (triage
guarantees it); this module adds only the link and how the office came to be notified, and both
the webhook body and the e-mail are built from the same :func:`content`.
"""

import json
from dataclasses import dataclass
from email.message import EmailMessage
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from schemas.escalation import Escalation

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
Kind = Literal["jurisdiction", "critical", "uncertain_copy", "unacknowledged", "fallback"]
"""``fallback``: the office is its agency's national desk, standing in for an office the directory lacks."""
EVENT_TYPE_ID = {"tip": "laporan warga", "departure_anomaly": "anomali keberangkatan", "recruiter_sighting": "perekrut"}
KIND_ID = {
    "jurisdiction": "wilayah hukum Anda",
    "critical": "KRITIS: diteruskan langsung ke kantor atasan",
    "uncertain_copy": "tembusan: yurisdiksi belum pasti",
    "unacknowledged": "belum dikonfirmasi oleh kantor wilayah hukum",
    "fallback": "meja nasional: direktori belum memuat kantor wilayah instansi Anda",
}


@dataclass(frozen=True)
class Notice:
    """Why this office gets this escalation now."""

    kind: Kind
    step: int = 0
    jurisdiction_uncertain: bool = False


def console_url(public_url: str, escalation_id: str) -> str:
    return f"{public_url.rstrip('/')}/console/escalations/{escalation_id}"


def national_desk(escalation: Escalation) -> dict[str, str]:
    """Why a national desk got this case: the notice's ``national_desk`` part, text in Bahasa Indonesia.

    The desk's own agency is the one without an office here (the notice does not repeat it: a
    delivery parked in the retry queue keeps only the notice's kind, step and flag).
    """
    return {
        "reason": "no_office_in_directory",
        "text": (
            "Dikirim ke meja nasional: direktori Waspada belum memuat kantor instansi Anda untuk "
            f"{escalation.kabupaten.title()}, {escalation.provinsi.title()}. Mohon ditangani atau "
            "diteruskan ke kantor setempat."
        ),
    }


def content(escalation: Escalation, notice: Notice, public_url: str) -> dict[str, Any]:
    """The notification as data: the escalation's fields (minus internals), the link and the notice."""
    body = escalation.model_dump(mode="json", exclude={"first_received_at"})
    body["console_url"] = console_url(public_url, escalation.escalation_id)
    body["notice"] = {
        "kind": notice.kind,
        "step": notice.step,
        "jurisdiction_uncertain": notice.jurisdiction_uncertain,
    }
    if notice.kind == "fallback":
        body["notice"]["national_desk"] = national_desk(escalation)
    return body


def webhook_body(escalation: Escalation, notice: Notice, public_url: str) -> bytes:
    return json.dumps(content(escalation, notice, public_url), ensure_ascii=False).encode()


@lru_cache(maxsize=1)
def _env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES / "email"), undefined=StrictUndefined, keep_trailing_newline=True
    )
    env.filters["event_type"] = lambda name: EVENT_TYPE_ID.get(name, name)
    return env


def email(
    escalation: Escalation, notice: Notice, public_url: str, *, to: str, sender: str, message_id: str
) -> EmailMessage:
    """The same content as the webhook, in Bahasa Indonesia, as a plain-text e-mail."""
    data = content(escalation, notice, public_url)
    data["notice_text"] = KIND_ID[notice.kind]
    message = EmailMessage()
    message["Subject"] = _env().get_template("subject.txt.j2").render(**data).strip()
    message["From"] = sender
    message["To"] = to
    message["Message-ID"] = f"<{message_id}@waspada>"
    message.set_content(_env().get_template("body.txt.j2").render(**data))
    return message
