"""A real PostgreSQL for the session, its schema migrated once; each test gets a database of its own.

Each test's database is a copy of the migrated one (``CREATE DATABASE … TEMPLATE``, tens of
milliseconds), so tests never see each other's rows and nothing needs cleaning.
"""

import itertools
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psycopg
import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine

from devstack import postgres
from devstack.processes import Managed, free_port
from services.notify.adapters.postgres import migrate, store

TEMPLATE = "waspada_migrated"
_names = itertools.count()


class Server:
    """The session's server: its port, its process, and databases made from the migrated template."""

    def __init__(self, port: int, proc: Managed, data_dir: Path) -> None:
        self.port, self.proc, self.data_dir = port, proc, data_dir

    def admin(self) -> psycopg.Connection:
        return psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True)

    def fresh(self, template: str = TEMPLATE) -> str:
        """A new database copied from ``template``; its SQLAlchemy URL."""
        name = f"t{next(_names)}"
        with self.admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        return postgres.url(self.port, name)


def _outside_pytest_base() -> Path:
    """A fresh directory under the system temp dir, not pytest's: pytest keeps ``/tmp/pytest-of-<user>`` at mode
    0700 and tightens it again whenever a session starts, so PostgreSQL's own user (we run as root in CI) could
    not walk into a data directory there."""
    return Path(tempfile.mkdtemp(prefix="waspada-pg-"))


@pytest.fixture
def pg_dir() -> Iterator[Path]:
    """A directory for a server of the test's own (data and log)."""
    root = _outside_pytest_base()
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Server]:
    root = _outside_pytest_base()
    port = free_port()
    proc = postgres.server(port, root / "data", log=root / "postgres.log", durable=False).start()
    try:
        proc.wait_until(lambda: postgres.ready(port), timeout=60)
        server = Server(port, proc, root / "data")
        with server.admin() as conn:
            conn.execute(f'CREATE DATABASE "{TEMPLATE}"')
        migrate.upgrade(postgres.url(port, TEMPLATE))
        yield server
    finally:
        proc.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def database_url(pg_server: Server) -> str:
    """A migrated database of this test's own."""
    return pg_server.fresh()


@pytest_asyncio.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    db = store.engine(database_url)
    yield db
    await db.dispose()
