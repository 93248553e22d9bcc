"""The webhook client: one signed POST (Standard Webhooks) per attempt, its answer sorted into success,
``Retryable`` (429, 5xx, timeout, connection) or ``Permanent`` (any other 4xx).

aiohttp, not httpx: ~3 ms less CPU per webhook POST here, which bounded notify at ~45
escalations/s on a core (make bench's end-to-end run, four webhooks per escalation).
"""

import time

import aiohttp

from services.notify.core import payload, signing
from services.notify.core.delivery import Delivery
from services.notify.core.directory import WebhookChannel
from services.notify.core.errors import Permanent, Retryable
from services.notify.core.retry import retry_after_seconds


def client_session(timeout_s: float) -> aiohttp.ClientSession:
    """The process's one session (its connection pool), every request bounded by ``timeout_s`` in total."""
    return aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout_s))


class WebhookSender:
    """POSTs a delivery's body, signed with its channel's secret, under the delivery id as ``webhook-id``."""

    def __init__(self, client: aiohttp.ClientSession, public_url: str) -> None:
        self.client = client
        self.public_url = public_url

    async def send(self, delivery: Delivery, channel: WebhookChannel) -> None:
        """Returns on a 2xx; raises Retryable or Permanent otherwise."""
        body = payload.webhook_body(delivery.escalation, delivery.notice, self.public_url)
        headers = signing.headers(channel.secret, delivery.id, int(time.time()), body)
        try:
            async with self.client.post(channel.url, data=body, headers=headers, allow_redirects=False) as response:
                await response.read()  # the whole answer, so the connection goes back to the pool
                status, retry_after = response.status, response.headers.get("retry-after")
        except TimeoutError:
            raise Retryable("timeout") from None
        except aiohttp.ClientError:
            raise Retryable("connection") from None
        if 200 <= status < 300:
            return
        reason = f"http_{status}"
        if status == 429 or status >= 500:
            raise Retryable(reason, retry_after_seconds(retry_after))
        raise Permanent(reason)
