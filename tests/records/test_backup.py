"""The documented backup (``pg_dump -Fc``) restores into a fresh server with the same audit trail (docs/records.md)."""

import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, select

from devstack import postgres
from devstack.processes import free_port, run_to_end
from services.notify.adapters.postgres import store
from services.notify.adapters.postgres.tables import escalation_revisions, officer_actions
from tests.records.conftest import Server
from tests.records.test_store import _esc

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


async def _fill(url: str) -> None:
    engine = store.engine(url)
    async with engine.begin() as conn:
        for i in range(5):
            await store.record_revision(
                conn, _esc(1, f"inc_{i}", T0 + timedelta(minutes=i)), [("polres-serang", "responsible")]
            )
            await store.record_action(
                conn,
                store.Action(
                    "acknowledge", "polres-serang", T0 + timedelta(minutes=i, seconds=30), incident_id=f"inc_{i}"
                ),
            )
    await engine.dispose()


def _rows(url: str) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    engine = create_engine(url)
    with engine.connect() as conn:
        actions = [tuple(r) for r in conn.execute(select(officer_actions).order_by(officer_actions.c.id))]
        revisions = [
            tuple(r) for r in conn.execute(select(escalation_revisions).order_by(escalation_revisions.c.escalation_id))
        ]
    engine.dispose()
    return actions, revisions


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def test_a_dump_restored_into_a_fresh_server_reads_the_same_audit_trail(
    pg_server: Server, tmp_path: Path, pg_dir: Path
) -> None:
    source = pg_server.fresh()
    run_to_end(lambda: _fill(source))
    dump = tmp_path / "waspada.dump"
    tools = postgres.bin_dir()
    subprocess.run([str(tools / "pg_dump"), "-Fc", "-f", str(dump), _libpq(source)], check=True, capture_output=True)

    port = free_port()
    fresh = postgres.server(port, pg_dir / "restored", log=pg_dir / "restored.log", durable=False).start()
    try:
        fresh.wait_until(lambda: postgres.ready(port), timeout=60)
        target = postgres.url(port)  # the empty ``waspada`` database of a new server
        restore = [str(tools / "pg_restore"), "--no-owner", "--exit-on-error", "-d", _libpq(target), str(dump)]
        subprocess.run(restore, check=True, capture_output=True)
        assert _rows(target) == _rows(source)
        assert len(_rows(target)[0]) == 5
    finally:
        fresh.stop()
