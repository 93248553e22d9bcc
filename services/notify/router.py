"""From one escalation to the deliveries it calls for."""

from datetime import UTC, datetime

import httpx
from redis.asyncio import Redis

from schemas.escalation import Escalation, Severity
from services.common.logs import get_logger
from services.notify import metrics, store
from services.notify.delivery import deliver_webhook
from services.notify.directory import Directory, Office, WebhookChannel

log = get_logger("waspada.notify")


def recipients(directory: Directory, escalation: Escalation) -> list[Office]:
    """The Polres and the Kantor Imigrasi of the village; their parents too when CRITICAL."""
    offices = directory.route(escalation.desa_code)
    if escalation.severity is Severity.CRITICAL:
        offices += [directory.office(o.parent) for o in offices if o.parent]
    return [o for o in offices if escalation.severity.rank >= o.min_severity.rank]


async def handle(escalation: Escalation, directory: Directory, client: httpx.AsyncClient, redis: Redis) -> None:
    """Record the escalation for the officer API, then deliver it to every recipient."""
    await store.save(redis, escalation, [o.id for o in directory.route(escalation.desa_code)])
    first = True
    for office in recipients(directory, escalation):
        for channel in office.channels:
            if isinstance(channel, WebhookChannel):
                ok = await deliver_webhook(client, redis, office, channel, escalation)
                log.info("notify.delivery", escalation_id=escalation.escalation_id, office=office.id, ok=ok)
                if ok and first and escalation.first_received_at:
                    metrics.END_TO_END_SECONDS.observe(
                        (datetime.now(UTC) - escalation.first_received_at).total_seconds()
                    )
                    first = False
