"""Writes are idempotent (a replay records nothing twice); reads filter and page as CONTRACT §6 asks."""

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from schemas.escalation import Escalation
from services.notify.adapters.postgres import store
from services.notify.adapters.postgres.tables import daily_counts, delivery_attempts, escalation_revisions, incidents
from tests.notify.conftest import escalation

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def _esc(revision: int = 1, incident: str = "inc_a", at: datetime = T0, **fields: object) -> Escalation:
    body = escalation(
        incident_id=incident, escalation_id=f"esc_{incident}_{revision}", revision=revision, created_at=at.isoformat()
    )
    return Escalation.model_validate({**body, **fields})


async def _count(engine: AsyncEngine, table: object) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())  # type: ignore[arg-type]


async def test_a_replayed_revision_is_recorded_once_and_the_incident_follows_the_newest(engine: AsyncEngine) -> None:
    offices = [("polres-serang", "responsible"), ("kanim-serang", "responsible")]
    async with engine.begin() as conn:
        assert await store.record_revision(conn, _esc(1), offices)
        assert await store.record_revision(
            conn, _esc(2, severity="HIGH", score=70, at=T0 + timedelta(hours=1)), offices
        )
        assert not await store.record_revision(conn, _esc(1), offices)  # the topic replayed after a restart
    async with engine.connect() as conn:
        row = (await conn.execute(select(incidents))).one()._mapping
    assert await _count(engine, escalation_revisions) == 2
    assert (row["latest_revision"], row["severity"], row["status"]) == (2, "HIGH", "open")
    assert (row["desa_code"], row["kecamatan_code"], row["kabupaten_code"]) == ("36.04.13.2007", "36.04.13", "36.04")


async def test_acknowledge_then_resolve_with_an_outcome(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await store.record_revision(conn, _esc(1), [("polres-serang", "responsible")])
        assert await store.acknowledge(conn, "inc_a", "polres-serang", T0 + timedelta(minutes=5))
        assert not await store.acknowledge(conn, "inc_a", "kanim-serang", T0 + timedelta(minutes=6))
        assert await store.resolve(conn, "inc_a", "kanim-serang", T0 + timedelta(hours=2), "tppo_confirmed")
        assert not await store.resolve(conn, "inc_a", "polres-serang", T0 + timedelta(hours=3))
    async with engine.connect() as conn:
        row = (await conn.execute(select(incidents))).one()._mapping
    assert (row["status"], row["acknowledged_by"], row["resolved_by"], row["outcome"]) == (
        "resolved",
        "polres-serang",
        "kanim-serang",
        "tppo_confirmed",
    )


async def test_an_attempt_recorded_twice_is_one_row(engine: AsyncEngine) -> None:
    attempt = store.Attempt(
        "msg_1", 1, "esc_inc_a_1", "polres-serang", "webhook", "jurisdiction", 0, "delivered", "200", T0
    )
    async with engine.begin() as conn:
        await store.record_revision(conn, _esc(1), [("polres-serang", "responsible")])
        await store.record_attempt(conn, attempt)
        await store.record_attempt(conn, attempt)
        await store.record_attempt(conn, store.Attempt(**{**attempt.__dict__, "attempt": 2}))
    assert await _count(engine, delivery_attempts) == 2


async def test_a_replayed_event_counts_once_per_day_village_type_category_and_severity(engine: AsyncEngine) -> None:
    day = date(2026, 12, 1)
    events = [
        store.Counted("ev1", day, "36.04.13.2007", "tip", "job_offer_abroad", "HIGH", minors=2),
        store.Counted("ev2", day, "36.04.13.2007", "tip", "job_offer_abroad", "HIGH"),
        store.Counted("ev1", day, "36.04.13.2007", "tip", "job_offer_abroad", "HIGH", minors=2),  # replayed
        store.Counted("ev3", day, "36.04.13.2007", "departure_anomaly"),
    ]
    async with engine.begin() as conn:
        fresh = [await store.count_event(conn, e) for e in events]
    assert fresh == [True, True, False, True]
    async with engine.connect() as conn:
        rows = {
            (r.event_type, r.category): (r.events, r.minors_involved) for r in await conn.execute(select(daily_counts))
        }
    assert rows == {("tip", "job_offer_abroad"): (2, 2), ("departure_anomaly", ""): (1, 0)}


async def test_the_list_filters_by_status_severity_period_and_area_and_pages_without_gaps(engine: AsyncEngine) -> None:
    villages = ["36.04.13.2007", "36.04.13.2001", "36.03.01.1001", "62.71.01.1001"]
    async with engine.begin() as conn:
        for i in range(25):
            code = villages[i % 4]
            esc = _esc(
                1, f"inc_{i:02}", T0 + timedelta(minutes=i), desa_code=code, severity="HIGH" if i % 2 else "MEDIUM"
            )
            await store.record_revision(conn, esc, [("polda-banten", "parent")])
        await store.acknowledge(conn, "inc_03", "polda-banten", T0)

    async def page(filters: store.Filters, limit: int = 10) -> list[str]:
        seen: list[str] = []
        cursor: str | None = None
        async with engine.connect() as conn:
            while True:
                rows, cursor = await store.incidents_of(conn, ["polda-banten"], filters, cursor, limit)
                seen += [r["incident_id"] for r in rows]
                if cursor is None:
                    return seen

    everything = await page(store.Filters(), limit=7)
    assert everything == [f"inc_{i:02}" for i in reversed(range(25))]  # newest first, each once across 4 pages
    assert await page(store.Filters(area="36.04.13")) == [f"inc_{i:02}" for i in reversed(range(25)) if i % 4 < 2]
    assert await page(store.Filters(area="62")) == [f"inc_{i:02}" for i in reversed(range(25)) if i % 4 == 3]
    assert await page(store.Filters(severity="HIGH", status="open")) == [
        f"inc_{i:02}" for i in reversed(range(25)) if i % 2 and i != 3
    ]
    window = store.Filters(since=T0 + timedelta(minutes=10), until=T0 + timedelta(minutes=12))
    assert await page(window) == ["inc_11", "inc_10"]
    async with engine.connect() as conn:
        assert (await store.incidents_of(conn, ["polres-bogor"], store.Filters(), None, 10))[0] == []


def test_a_cursor_not_handed_out_is_refused() -> None:
    import pytest

    at = datetime(2026, 12, 1, tzinfo=UTC)
    assert store.decode_cursor(store.encode_cursor(at, "inc_1")) == (at, "inc_1")
    for bad in ("", "bm90LWpzb24", "WzFd"):
        with pytest.raises(ValueError, match="not a cursor"):
            store.decode_cursor(bad)


async def test_retention_erases_notes_of_cases_resolved_long_ago_and_keeps_the_rows(engine: AsyncEngine) -> None:
    from services.notify.adapters.postgres.retention import erase_expired
    from services.notify.adapters.postgres.tables import officer_actions

    async with engine.begin() as conn:
        for name, resolved in (("inc_old", T0), ("inc_new", T0 + timedelta(days=700)), ("inc_open", None)):
            await store.record_revision(conn, _esc(1, name), [("polres-serang", "responsible")])
            note = store.Action("acknowledge", "polres-serang", T0, incident_id=name, note="dicek", token_ref="ab12")
            await store.record_action(conn, note)
            if resolved:
                await store.resolve(conn, name, "polres-serang", resolved, "no_offence_found")
    async with engine.begin() as conn:
        erased = await erase_expired(conn, now=T0 + timedelta(days=731))
        again = await erase_expired(conn, now=T0 + timedelta(days=731))
    async with engine.connect() as conn:
        rows = {r.incident_id: (r.note, r.token_ref, r.action) for r in await conn.execute(select(officer_actions))}
        outcome = (await conn.execute(select(incidents.c.outcome).where(incidents.c.incident_id == "inc_old"))).scalar()
    assert (erased.incidents, erased.actions, again.actions) == (1, 1, 0)
    assert rows == {
        "inc_old": (None, None, "acknowledge"),  # the row stays: the office did it, then; what it wrote is gone
        "inc_new": ("dicek", "ab12", "acknowledge"),
        "inc_open": ("dicek", "ab12", "acknowledge"),
    }
    assert outcome == "no_offence_found"
