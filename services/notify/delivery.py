"""Webhook delivery with the notification log: a delivery that succeeded is never sent again.

The log entry is written only after a 2xx (as Alertmanager's notification log), so a restart or
a replayed escalation skips exactly what was already delivered.
"""

import time
import uuid

import httpx
from redis.asyncio import Redis

from schemas.escalation import Escalation
from services.notify import metrics, signing
from services.notify.directory import Office, WebhookChannel

WEBHOOK_NAMESPACE = uuid.UUID("1d0c8a52-2f7e-4b8e-a7c3-5e4f9b6d2a01")


def webhook_id(escalation_id: str, office_id: str) -> str:
    """Stable across retries and restarts: one per escalation revision and office."""
    return "msg_" + uuid.uuid5(WEBHOOK_NAMESPACE, f"{escalation_id}:{office_id}").hex


def _log_key(wid: str) -> str:
    return f"waspada:notify:delivered:{wid}"


async def deliver_webhook(
    client: httpx.AsyncClient, redis: Redis, office: Office, channel: WebhookChannel, escalation: Escalation
) -> bool:
    """POST the signed escalation once; True when delivered now or earlier."""
    wid = webhook_id(escalation.escalation_id, office.id)
    if await redis.exists(_log_key(wid)):
        return True
    body = escalation.model_dump_json().encode()
    started = time.monotonic()
    try:
        response = await client.post(
            channel.url, content=body, headers=signing.headers(channel.secret, wid, int(time.time()), body)
        )
        ok = response.is_success
    except httpx.HTTPError:
        ok = False
    metrics.DELIVERY_SECONDS.observe(time.monotonic() - started)
    metrics.NOTIFICATIONS.labels("webhook", "delivered" if ok else "failed").inc()
    if ok:
        await redis.set(_log_key(wid), str(time.time()))
    return ok
