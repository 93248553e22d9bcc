"""Pure logic of notify: Retry-After, backoff bounds, webhook ids, notification content."""

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from schemas.escalation import Escalation
from services.notify import payload
from services.notify.delivery import backoff_s, retry_after_seconds, webhook_id
from tests.notify.conftest import escalation


def test_retry_after_as_seconds_or_http_date() -> None:
    assert retry_after_seconds("7") == 7.0
    in_20s = format_datetime(datetime.now(UTC) + timedelta(seconds=20), usegmt=True)
    assert 15 <= (retry_after_seconds(in_20s) or 0) <= 20
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("soon") is None


def test_backoff_doubles_up_to_the_cap_with_jitter_and_honours_retry_after() -> None:
    assert backoff_s(1, initial=1.0, cap=30.0, retry_after=5) == 5
    assert backoff_s(1, initial=1.0, cap=30.0, retry_after=3600, retry_after_max=600) == 600
    waits = [backoff_s(n, initial=1.0, cap=30.0, jitter=lambda: 0.0) for n in range(1, 16)]
    assert waits[:6] == [1, 2, 4, 8, 16, 30] and max(waits) == 30
    jittered = [backoff_s(n, initial=1.0, cap=30.0) for n in range(1, 16)]
    assert all(0.8 * w <= j <= w for w, j in zip(waits, jittered, strict=True))
    # the default schedule: 16 attempts over about five minutes
    assert sum(waits) * 0.8 >= 260 and sum(waits) <= 335


def test_webhook_id_is_stable_and_distinct_per_office_and_step() -> None:
    assert webhook_id("e1", "polres-serang") == webhook_id("e1", "polres-serang")
    ids = {webhook_id("e1", "polres-serang"), webhook_id("e1", "kanim-serang"), webhook_id("e1", "polres-serang", 1)}
    assert len(ids) == 3 and all(i.startswith("msg_") for i in ids)


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
