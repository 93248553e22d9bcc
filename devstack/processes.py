"""Child processes that never outlive the launcher.

Each child gets PR_SET_PDEATHSIG, so even a SIGKILLed launcher leaves nothing behind, and runs
in its own session, so that Ctrl-C reaches the launcher alone and it can stop the children in
order (services first, then Valkey and the broker).
"""

import asyncio
import concurrent.futures
import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import IO, Any, TypeVar

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    # not Linux: no prctl, and the launcher's own shutdown still stops its children
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    """True when something accepts TCP connections on ``host:port``."""
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


class Managed:
    """One child process with a name, a log and an orderly stop."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: dict[str, str] | None = None,
        log: Path | None = None,
        cwd: Path | None = None,
        drop_to: dict[str, Any] | None = None,
        stop_signal: signal.Signals = signal.SIGTERM,
    ) -> None:
        self.name = name
        self.stop_signal = stop_signal
        """What ``stop`` sends first (PostgreSQL's SIGTERM waits for every client to leave; SIGINT does not)."""
        self.drop_to = drop_to or {}
        """``subprocess`` keywords (user, group, extra_groups) of the user it runs as: PostgreSQL refuses root."""
        self.argv = list(argv)
        self.env = env
        self.log_path = log
        self.cwd = cwd
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def start(self) -> "Managed":
        """Spawn the process (its output goes to ``log`` when given, else to our stdout)."""
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            self.argv,
            env=self.env,
            cwd=self.cwd,
            stdout=self._log,
            stderr=subprocess.STDOUT if self._log else None,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=_die_with_parent,
            **self.drop_to,
        )
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None, f"{self.name} was never started"
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def wait_until(self, ready: Callable[[], bool], timeout: float = 30.0) -> None:
        """Poll ``ready`` until it is true; RuntimeError if the process dies or time runs out."""
        deadline = time.monotonic() + timeout
        while not ready():
            self.check_alive()
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} was not ready within {timeout:.0f} s{self._tail()}")
            time.sleep(0.1)

    def check_alive(self) -> None:
        """RuntimeError with the exit code and the last lines of the log once the process has exited."""
        if not self.alive():
            raise RuntimeError(f"{self.name} exited with {self.proc and self.proc.returncode}{self._tail()}")

    def _tail(self) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return "; last lines of its log:\n" + "\n".join(self.log_path.read_text(errors="replace").splitlines()[-15:])

    def signal(self, sig: int) -> None:
        """Send ``sig`` to the process group (SIGSTOP/SIGCONT/SIGKILL in fault drills)."""
        if self.alive():
            os.killpg(self.pid, sig)

    def stop(self, timeout: float = 10.0) -> None:
        """``stop_signal`` (SIGTERM), then SIGKILL after ``timeout`` seconds; always reaps the child."""
        if self.proc is None:
            return
        if self.alive():
            self.signal(signal.SIGCONT)
            self.signal(self.stop_signal)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.signal(signal.SIGKILL)
                self.proc.wait(5)
        if self._log is not None:
            self._log.close()
            self._log = None

    def kill(self) -> None:
        """SIGKILL and reap, as a crash would."""
        self.signal(signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait(5)

    def restart(self, *, kill: bool = False, down_for: float = 0.0) -> "Managed":
        """Stop (SIGTERM, or SIGKILL as a crash with ``kill``), stay down ``down_for`` seconds, start again.

        The same argv, environment and log, so a server comes back on the same port and data dir.
        """
        if kill:
            self.kill()
        else:
            self.stop()
        if self._log is not None:
            self._log.close()
            self._log = None
        time.sleep(down_for)
        return self.start()


T = TypeVar("T")


def run_to_end(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """``asyncio.run(make())``, also from a thread whose event loop is running.

    A fixture that starts a stack may be set up inside a test's running loop (Playwright's sync
    API runs one; so does an async test that first asks for a lazily started session stack), where
    ``asyncio.run`` refuses: the coroutine then runs on a loop of its own in a worker thread.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make())
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(make())).result()
