"""Order per village: events of one village are triaged in order, and its revisions are delivered in order.

Every topic is keyed by ``desa_code``, so one village's events sit in one partition and are
handled by one triage worker in the order they were accepted; notify consumes escalations the
same way. A MEDIUM tip followed by one that makes the incident CRITICAL must reach every office
as revision 1, then revision 2, never the other way round.
"""

import asyncio
import time

import pytest

from bench import events, kafka_tools
from bench.load import post_event, session
from bench.receiver import read_record
from schemas.topics import Topics
from tests.faults.conftest import StartPipeline
from tests.support import wait_for

pytestmark = pytest.mark.integration

VILLAGES = 20


def medium_tip(desa_code: str) -> dict[str, object]:
    """An online-scam job offer to Cambodia without minors: MEDIUM on its own."""
    return {**events.escalating_tip(desa_code), "minors_involved": False}


async def post_in_order(base: str, villages: list[str]) -> None:
    """Per village: the MEDIUM tip, answered 202, then the one with minors."""
    async with session(8) as client:

        async def one(code: str) -> None:
            for body in (medium_tip(code), events.escalating_tip(code)):
                sent = await post_event(client, base, body)
                assert (sent.status, sent.answer) == (202, "accepted")

        await asyncio.gather(*(one(code) for code in villages))


def test_revisions_of_one_village_arrive_in_order(start_pipeline: StartPipeline) -> None:
    stack, record = start_pipeline()
    villages = events.covered_villages()[:VILLAGES]
    asyncio.run(post_in_order(stack.url("ingest"), villages))

    def both_revisions() -> list[dict[str, object]]:
        rows = [r for r in read_record(record) if r["desa_code"] in villages and r["status"] == 200]
        return rows if {(r["desa_code"]) for r in rows if r["severity"] == "CRITICAL"} == set(villages) else []

    wait_for(both_revisions, timeout=60, what="the CRITICAL revision of every village")
    time.sleep(0.5)
    revisions = {e["escalation_id"]: e for e in kafka_tools.read_json(stack.kafka_bootstrap or "", Topics.ESCALATIONS)}
    for code in villages:
        on_topic = [e["revision"] for e in revisions.values() if e["desa_code"] == code]
        assert on_topic == sorted(on_topic) and on_topic[0] == 1, f"{code}: revisions on the topic {on_topic}"
        for office in {r["office_id"] for r in read_record(record) if r["desa_code"] == code}:
            seen = [
                revisions[r["escalation_id"]]["revision"]
                for r in read_record(record)
                if r["desa_code"] == code and r["office_id"] == office
            ]
            assert seen == sorted(seen), f"{code} → {office}: revisions arrived as {seen}"
