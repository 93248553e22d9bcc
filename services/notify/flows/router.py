"""From one escalation (or one due acknowledgement timer) to the deliveries it calls for."""

import asyncio
import time

from redis.asyncio import Redis
from redis.exceptions import RedisError

from schemas.escalation import Escalation
from services.common.logs import get_logger
from services.notify.adapters import metrics
from services.notify.adapters.outages import OUTAGES
from services.notify.adapters.valkey import store, timers
from services.notify.adapters.valkey.chains import chain_for
from services.notify.adapters.valkey.chains import stored as stored_chain
from services.notify.core import routing
from services.notify.core.aio import settle_all, sleep_unless
from services.notify.core.delivery import Delivery, Outcome
from services.notify.core.directory import Directory
from services.notify.core.payload import Notice
from services.notify.flows.delivery import Deliverer
from services.notify.settings import NotifySettings

log = get_logger("waspada.notify")


class Router:
    """Carries out the routing decisions (``core/routing.py``): stores, starts timers, has the Deliverer send."""

    def __init__(self, directory: Directory, redis: Redis, deliverer: Deliverer, settings: NotifySettings) -> None:
        self.directory = directory
        self.redis = redis
        self.deliverer = deliverer
        self.settings = settings

    def ack_within(self, escalation: Escalation) -> int:
        return escalation.ack_within_s or self.settings.default_ack_within_s

    async def send(self, deliveries: list[Delivery], *, first_sight: bool = False) -> list[Outcome]:
        """Every delivery concurrently; returns once each is delivered, parked for a retry or dead-lettered.

        A failure (Valkey away) is raised only once every other delivery has settled too.
        ``first_sight``: the revision was stored just now, so none of these was delivered or parked before.
        """
        sending = (self.deliverer.deliver(d, first_sight=first_sight) for d in deliveries)
        return await settle_all(sending, outages_first=OUTAGES)

    async def handle(self, escalation: Escalation) -> None:
        """Store the revision, fix the chain, start the acknowledgement timer, deliver.

        Three Valkey round trips before the deliveries (chain, revision, timer), not nine: notify's
        CPU per escalation went mostly to redis-py's per-command overhead (py-spy, ``make bench``).
        """
        chain = await chain_for(self.redis, self.directory, escalation)
        saved = await store.save(
            self.redis, escalation, chain.members(), uncertain=chain.uncertain, unrouted=chain.unrouted
        )
        metrics.count_unrouted(chain.unrouted, first_sight=saved.new)
        is_open = saved.status == "open"
        newest = escalation.revision >= saved.latest_revision
        unacknowledged = routing.counts_as_unacknowledged(escalation, is_open=is_open, newest=newest)
        timed = routing.starts_timer(escalation, is_open=is_open)
        if unacknowledged or timed:
            async with self.redis.pipeline(transaction=False) as pipe:
                if unacknowledged:
                    store.mark_unacknowledged(pipe, escalation)
                if timed:
                    timers.schedule(pipe, escalation.escalation_id, 1, time.time() + self.ack_within(escalation))
                await pipe.execute()
        outcomes = await self.send(routing.initial(self.directory, escalation, chain), first_sight=saved.new)
        log.info(
            "notify.escalation_handled",
            escalation_id=escalation.escalation_id,
            severity=escalation.severity.value,
            offices=chain.members(),
            outcomes=[o.value for o in outcomes],
        )

    async def escalate(self, escalation_id: str, step: int) -> None:
        """A due acknowledgement timer: page the parents again unless acknowledged, resolved or superseded."""
        record = await store.get(self.redis, escalation_id)
        live = record is not None and record["status"] == "open"
        if live and record is not None:
            live = record["revision"] >= await store.latest_revision(self.redis, record["incident_id"])
        if not live or record is None:
            await timers.advance(self.redis, escalation_id, step, None)
            return
        escalation = Escalation.model_validate(record)
        chain = await stored_chain(self.redis, escalation.incident_id)
        parents = chain.parents if chain else ()
        notice = Notice("unacknowledged", step, chain.uncertain if chain else False)
        outcomes = await self.send(routing.deliveries(self.directory, escalation, parents, notice))
        log.info("notify.unacknowledged", escalation_id=escalation_id, step=step, outcomes=[o.value for o in outcomes])
        next_due = time.time() + self.ack_within(escalation) if step < self.settings.escalation_repeats else None
        await timers.advance(self.redis, escalation_id, step, next_due)

    async def run_timers(self) -> None:
        """Poll the due timers until shutdown begins; a Valkey outage only slows the polling down."""
        stopping = self.deliverer.stopping
        failing = False
        while not stopping.is_set():
            try:
                due = await timers.claim(self.redis, self.settings.timer_lease_s)
                await asyncio.gather(*(self.escalate(e, s) for e, s in due))
                failing = False
            except asyncio.CancelledError:
                raise
            except RedisError as error:  # the lease brings a claimed timer back
                if not failing:
                    log.warning("notify.timers_unavailable", error=type(error).__name__)
                failing = True
            except Exception:  # keep the loop alive; the lease brings the timer back
                log.exception("notify.timer_error")
            await sleep_unless(stopping, self.settings.timer_poll_s * (4 if failing else 1))
