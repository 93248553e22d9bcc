"""services/notify/core/retry.py: Retry-After, the schedule, its jitter and its bounds."""

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from pydantic import ValidationError

from services.common.settings import CONFIG_DIR
from services.notify.core.retry import backoff_s, retry_after_seconds
from services.notify.settings import NotifySettings


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
