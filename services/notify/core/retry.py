"""When to try a failed delivery again: the schedule, the receiver's Retry-After, in process or parked.

Retries on 429, 5xx, timeouts and connection errors follow ``retry_schedule_s`` (Standard Webhooks'
5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h by default) with jitter; a Retry-After lengthens a wait (up
to ``retry_after_max_s``) but never shortens it, so a receiver asking for 1 s cannot spend a day's
attempts in a minute. The first ``delivery_quick_attempts`` are made at once, in process; a timeout,
or a wait over ``QUICK_WAIT_MAX_S``, ends them early and the delivery is parked.
"""

import email.utils
import random
from collections.abc import Callable
from datetime import UTC, datetime

from services.notify.core.errors import Retryable

QUICK_WAIT_MAX_S = 5.0
"""A wait longer than this (a long Retry-After) is never slept in process: the delivery is parked."""


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds: delta-seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def backoff_s(
    attempts: int,
    *,
    schedule: tuple[float, ...],
    retry_after: float | None = None,
    retry_after_max: float = 3600.0,
    jitter: Callable[[], float] = random.random,
) -> float:
    """The wait after ``attempts`` failed attempts: ``schedule[attempts-1]`` less up to 20 % jitter (so that
    deliveries failing together do not come back together), or the receiver's Retry-After when that is
    longer (up to ``retry_after_max``). Past the schedule's end its last wait."""
    scheduled = schedule[min(attempts, len(schedule)) - 1] * (1.0 - 0.2 * jitter())
    asked = min(max(0.0, retry_after), retry_after_max) if retry_after is not None else 0.0
    return max(scheduled, asked)


def wait_in_process(attempts: int, quick_attempts: int, wait: float, reason: str) -> bool:
    """True when the next attempt is made in process after ``wait``; False when the delivery is parked.

    A timeout already held the consumer's batch for a whole webhook timeout: it is parked at once.
    """
    return attempts < quick_attempts and wait <= QUICK_WAIT_MAX_S and reason != "timeout"


def wait_after(attempts: int, error: Retryable, *, schedule: tuple[float, ...], retry_after_max: float) -> float:
    """``backoff_s`` for a failure: the schedule's wait, or the receiver's Retry-After when longer."""
    return backoff_s(attempts, schedule=schedule, retry_after=error.retry_after, retry_after_max=retry_after_max)
