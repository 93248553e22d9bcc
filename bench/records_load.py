"""The officer API's two heavy reads on a large system of record: ``python -m bench.records_load [N]``.

Fills a fresh embedded PostgreSQL with N incidents (default 100,000: one revision each, over 90
days and every village of Kab. Serang and Kab. Bogor), as many officer actions, then times the
escalation list (a Polda's view, with and without filters, first page and deeper pages) and the
audit trail (an office's, first page and deeper): p50 and p95 of each in ms.
"""

import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from devstack import postgres
from devstack.processes import free_port
from schemas.regions import region_table
from services.notify.adapters.postgres import migrate, store
from services.notify.adapters.postgres.tables import (
    escalation_revisions,
    incident_offices,
    incidents,
    officer_actions,
    region_codes,
)

T0 = datetime(2026, 9, 1, tzinfo=UTC)
OFFICES = ("polres-serang", "polres-bogor", "kanim-serang", "kanim-bogor")


def _villages() -> list[str]:
    return sorted(code for code in region_table().villages if code.startswith(("36.04.", "32.01.")))


async def fill(engine: AsyncEngine, n: int, rng: random.Random) -> None:
    villages = _villages()
    chunk = 5000
    for start in range(0, n, chunk):
        revs, incs, paged, acts = [], [], [], []
        for i in range(start, min(start + chunk, n)):
            code = rng.choice(villages)
            at = T0 + timedelta(seconds=rng.uniform(0, 90 * 86400))
            severity = rng.choice(("MEDIUM", "MEDIUM", "HIGH", "CRITICAL"))
            office = OFFICES[(0 if code.startswith("36") else 1) + 2 * rng.randint(0, 1)]
            eid, iid = f"esc_{i:08}", f"inc_{i:08}"
            codes = region_codes(code)
            revs.append(
                {
                    "escalation_id": eid,
                    "incident_id": iid,
                    "revision": 1,
                    "severity": severity,
                    "score": 60,
                    "categories": ["TPPO"],
                    "rules": ["online_scam_job_destination"],
                    "event_count": 1,
                    "created_at": at,
                    "policy_version": None,
                    "body": json.loads('{"bench": true}'),
                    **codes,
                }
            )
            status = rng.choice(("open", "acknowledged", "resolved"))
            incs.append(
                {
                    "incident_id": iid,
                    "latest_escalation_id": eid,
                    "latest_revision": 1,
                    "severity": severity,
                    "status": status,
                    "opened_at": at,
                    "updated_at": at,
                    **codes,
                }
            )
            paged.append({"incident_id": iid, "office_id": office, "role": "responsible", "since": at})
            paged.append(
                {
                    "incident_id": iid,
                    "office_id": "polda-banten" if code.startswith("36") else "polda-jabar",
                    "role": "parent",
                    "since": at,
                }
            )
            acts.append({"action": "read", "office_id": office, "incident_id": iid, "escalation_id": eid, "at": at})
        async with engine.begin() as conn:
            await conn.execute(insert(escalation_revisions), revs)
            await conn.execute(insert(incidents), incs)
            await conn.execute(insert(incident_offices), paged)
            await conn.execute(insert(officer_actions), acts)
    async with engine.begin() as conn:
        await conn.exec_driver_sql("ANALYZE")


async def _timed(query: Callable[[], Awaitable[Any]], repeats: int) -> tuple[float, float]:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        await query()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), statistics.quantiles(times, n=20)[-1]


async def measure(engine: AsyncEngine, repeats: int = 200) -> dict[str, tuple[float, float]]:
    async def listing(office: str, filters: store.Filters, pages: int) -> None:
        cursor = None
        async with engine.connect() as conn:
            for _ in range(pages):
                _, cursor = await store.incidents_of(conn, [office], filters, cursor, 50)

    async def audit(office: str, pages: int) -> None:
        cursor = None
        async with engine.connect() as conn:
            for _ in range(pages):
                _, cursor = await store.audit_of(conn, [office], cursor, 50)

    since = T0 + timedelta(days=30)
    cases: dict[str, Callable[[], Awaitable[Any]]] = {
        "list, Polda, first page": lambda: listing("polda-banten", store.Filters(), 1),
        "list, Polda, open HIGH": lambda: listing("polda-banten", store.Filters(status="open", severity="HIGH"), 1),
        "list, Polres, kecamatan, 30 d": lambda: listing(
            "polres-serang", store.Filters(area="36.04.13", since=since, until=since + timedelta(days=30)), 1
        ),
        "list, Polda, page 20 (per page)": lambda: listing("polda-banten", store.Filters(), 20),
        "audit, Polres, first page": lambda: audit("polres-serang", 1),
        "audit, Polres, page 20 (per page)": lambda: audit("polres-serang", 20),
    }
    out = {}
    for name, query in cases.items():
        p50, p95 = await _timed(query, repeats if "page 20" not in name else repeats // 10)
        if "page 20" in name:
            p50, p95 = p50 / 20, p95 / 20
        out[name] = (p50, p95)
    return out


async def main(n: int) -> None:
    console = Console()
    root = Path(tempfile.mkdtemp(prefix="waspada-records-"))
    port = free_port()
    server = postgres.server(port, root / "data", log=root / "postgres.log", durable=False).start()
    try:
        server.wait_until(lambda: postgres.ready(port), timeout=60)
        migrate.upgrade(postgres.url(port))
        engine = store.engine(postgres.url(port))
        started = time.monotonic()
        await fill(engine, n, random.Random(7))
        console.print(f"filled {n:,} incidents and {n:,} audit entries in {time.monotonic() - started:.1f} s")
        figures = await measure(engine)
        await engine.dispose()
    finally:
        server.stop()
    table = Table("query", "p50 ms", "p95 ms", title=f"system of record, {n:,} escalations")
    for name, (p50, p95) in figures.items():
        table.add_row(name, f"{p50:.1f}", f"{p95:.1f}")
    console.print(table)


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000))
