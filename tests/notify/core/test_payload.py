"""services/notify/core/payload.py: what a notification may say (DOMAIN §3.3)."""

from schemas.escalation import Escalation
from services.notify.core import payload
from tests.factories import escalation


def test_notification_content_carries_only_what_domain_3_3_allows() -> None:
    esc = Escalation.model_validate(escalation(severity="HIGH", score=70, ack_within_s=1800))
    body = payload.content(esc, payload.Notice("jurisdiction"), "https://waspada.example")
    assert "first_received_at" not in body
    assert body["console_url"] == f"https://waspada.example/console/escalations/{esc.escalation_id}"
    # the Escalation model itself has no field that could hold a person
    personal = {"reporter", "traveller", "recruiter", "name", "phone", "nik", "passport", "description"}
    assert not personal & set(Escalation.model_fields)
    mail = payload.email(esc, payload.Notice("critical"), "https://waspada.example", to="a@b.invalid",
                         sender="w@x.invalid", message_id="msg_1")  # fmt: skip
    text = mail.get_content()
    assert "KRITIS" in text and "Mohon dikonfirmasi dalam 30 menit" in text
    assert body["console_url"] in text
    assert mail["Subject"].startswith("[WASPADA HIGH] Eskalasi inc_")
