"""Notify's one error root: every failure notify raises on purpose is a ``NotifyError``.

Those an officer's request can meet carry the HTTP ``status`` and ``detail`` of their answer, and
``api/problems.py`` turns them into responses in one place (the officer API's JSON, the console's
page); flows raise them without knowing HTTP. The delivery failures are ``DeliveryFailure``s: they
never reach an officer, they decide between another attempt and the dead-letter topic.
"""

from typing import ClassVar


class NotifyError(Exception):
    """The root. ``status`` and ``detail``: the answer when one reaches the officer API."""

    status: ClassVar[int] = 500
    detail: str = "internal error"
    headers: dict[str, str]

    def __init__(self, detail: str | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail or self.detail)
        self.detail = detail or self.detail
        self.headers = headers or {}


class Unauthorized(NotifyError):
    """No bearer token, or one that names no office."""

    status = 401
    detail = "missing or unknown office token"

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail, {"WWW-Authenticate": "Bearer"})


class NotFound(NotifyError):
    """Not there, or not in the office's jurisdiction: the same 404, so ids cannot be probed."""

    status = 404
    detail = "no such escalation in your jurisdiction"


class Conflict(NotifyError):
    """The action does not apply to the escalation's status (acknowledging a resolved one)."""

    status = 409
    detail = "conflict"


class SignInRequired(NotifyError):
    """The console has no valid session for the request: its page redirects to the sign-in form."""

    status = 401
    detail = "sign in required"


class DeliveryFailure(NotifyError):
    """One attempt of a delivery failed; ``reason`` is what the log, the console row and the dead letter say."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Retryable(DeliveryFailure):
    """A failure worth another attempt (429, 5xx, timeout, connection)."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class Permanent(DeliveryFailure):
    """A failure another attempt would not fix (a 4xx other than 429, SMTP 5xx)."""

    deadletter_reason = "delivery_rejected"


class Unexpected(Permanent):
    """Any other error building or sending a delivery (the e-mail builder refusing a header, a bug).

    Dead-lettered at once with its type: retried, it would fail the same way; raised, it would fail
    the consumer's batch, which would replay forever and hold back the partition behind it.
    """

    deadletter_reason = "delivery_error"

    def __init__(self, error: Exception) -> None:
        super().__init__(type(error).__name__)
        self.error = error
