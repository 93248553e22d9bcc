"""The SMTP client: one message per attempt, sent from a worker thread (smtplib blocks), its failure sorted
into ``Permanent`` (an SMTP 5xx) or ``Retryable`` (a 4xx, a refused connection)."""

import asyncio
import smtplib
from email.message import EmailMessage
from urllib.parse import urlsplit

from services.notify.core import payload
from services.notify.core.delivery import Delivery
from services.notify.core.directory import EmailChannel
from services.notify.core.errors import Permanent, Retryable


def _smtp_send(url: str, message: EmailMessage, timeout: float) -> None:
    parts = urlsplit(url)
    with smtplib.SMTP(parts.hostname or "localhost", parts.port or 25, timeout=timeout) as smtp:
        smtp.send_message(message)


def smtp_failure(error: Exception) -> Exception:
    """What an smtplib error means for the delivery: another attempt, or none."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        return Permanent(f"smtp_{min(codes)}") if codes and min(codes) >= 500 else Retryable("smtp_refused")
    if isinstance(error, smtplib.SMTPResponseException):
        reason = f"smtp_{error.smtp_code}"
        return Permanent(reason) if error.smtp_code >= 500 else Retryable(reason)
    return Retryable("smtp_connection")


class Mailer:
    """Sends a delivery's e-mail through ``smtp_url`` (``smtp://host:port``)."""

    def __init__(self, smtp_url: str, sender: str, public_url: str, timeout_s: float) -> None:
        self.smtp_url = smtp_url
        self.sender = sender
        self.public_url = public_url
        self.timeout_s = timeout_s

    async def send(self, delivery: Delivery, channel: EmailChannel) -> None:
        """Returns once the server took the message; raises Retryable or Permanent otherwise."""
        message = payload.email(
            delivery.escalation,
            delivery.notice,
            self.public_url,
            to=channel.to,
            sender=self.sender,
            message_id=delivery.id,
        )
        try:
            await asyncio.to_thread(_smtp_send, self.smtp_url, message, self.timeout_s)
        except (smtplib.SMTPException, OSError) as error:
            raise smtp_failure(error) from None
