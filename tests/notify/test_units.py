"""Pure logic of notify: Retry-After, the retry schedule, webhook ids, notification content."""

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from pydantic import ValidationError

from schemas.escalation import Escalation
from services.common.settings import CONFIG_DIR
from services.notify.core import payload
from services.notify.core.delivery import webhook_id
from services.notify.core.retry import backoff_s, retry_after_seconds
from services.notify.settings import NotifySettings
from tests.notify.conftest import escalation


def test_retry_after_as_seconds_or_http_date() -> None:
    assert retry_after_seconds("7") == 7.0
    in_20s = format_datetime(datetime.now(UTC) + timedelta(seconds=20), usegmt=True)
    assert 15 <= (retry_after_seconds(in_20s) or 0) <= 20
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("soon") is None


def test_the_default_schedule_is_standard_webhooks_day_with_jitter() -> None:
    schedule = NotifySettings(directory=CONFIG_DIR / "directory.yaml").retry_schedule_s
    assert schedule == (5, 300, 1800, 7200, 18000, 36000, 36000)
    waits = [backoff_s(n, schedule=schedule, jitter=lambda: 0.0) for n in range(1, 8)]
    assert waits == [5, 300, 1800, 7200, 18000, 36000, 36000]
    assert 27.5 * 3600 < sum(waits) < 28.5 * 3600, "about a day before the dead-letter topic"
    jittered = [backoff_s(n, schedule=schedule) for n in range(1, 8)]
    assert all(0.8 * w <= j <= w for w, j in zip(waits, jittered, strict=True))
    assert len({backoff_s(2, schedule=schedule) for _ in range(20)}) > 1, "no jitter"
    assert backoff_s(9, schedule=schedule, jitter=lambda: 0.0) == 36000, "past the end: its last wait"


def test_retry_after_lengthens_a_wait_within_reason_and_never_shortens_one() -> None:
    schedule = (5.0, 300.0)
    assert backoff_s(1, schedule=schedule, retry_after=60, jitter=lambda: 0.0) == 60
    assert backoff_s(1, schedule=schedule, retry_after=86400, retry_after_max=3600) == 3600
    # a receiver asking for 1 s does not spend the day's eight attempts in a minute
    assert backoff_s(2, schedule=schedule, retry_after=1, jitter=lambda: 0.0) == 300


def test_the_schedule_comes_from_one_comma_separated_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WASPADA_DIRECTORY", str(CONFIG_DIR / "directory.yaml"))
    monkeypatch.setenv("WASPADA_RETRY_SCHEDULE_S", "0.5, 1,2")
    settings = NotifySettings()
    assert settings.retry_schedule_s == (0.5, 1, 2) and settings.delivery_attempts == 4
    for bad in ("", "0,1", "1,soon"):
        monkeypatch.setenv("WASPADA_RETRY_SCHEDULE_S", bad)
        with pytest.raises(ValidationError):
            NotifySettings()
    # the old backoff's variables are refused at start: tests/common/test_settings.py


def test_webhook_id_is_stable_across_releases_and_distinct_per_office_step_and_channel() -> None:
    # pinned values: a receiver deduplicates by webhook-id, so an id that changed between two releases (another
    # namespace, another name layout) would make every replayed delivery look new to it
    assert webhook_id("e1", "polres-serang") == "msg_2e10a191d62d55c5aa7a6506883975a9"
    assert webhook_id("e1", "polres-serang", 1, 1) == "msg_5485f875499951978ef14f51e8a42740"
    ids = {
        webhook_id("e1", "polres-serang"),
        webhook_id("e1", "kanim-serang"),
        webhook_id("e1", "polres-serang", 1),
        webhook_id("e1", "polres-serang", 0, 1),
        webhook_id("e2", "polres-serang"),
    }
    assert len(ids) == 5 and all(i.startswith("msg_") for i in ids)


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
