"""CPU µs per event of a worker subprocess (triage, or the bare Faust agent with and without the patches).

Wall-clock rates on this 2-core machine move with whatever else runs; the CPU a worker spends per
event does much less. Each contender drains the same messages of the input topics with a fresh
consumer group; its process CPU (user + system, from /proc through psutil) is read at the first
poll that sees an event done and at the one that sees the target, and divided by the events in
between. The broker's CPU over the same span is reported beside it (it shares the cores).

    python -m bench.cpu [N] [ROUNDS] [contender ...]   # one embedded broker, started here

Contenders: ``bare`` (stock Faust), ``bare-fast`` (the per-message fast path), ``bare-fast-uvloop``
(and uvloop), ``triage``; ``triage@DIR`` is triage as checked out in DIR (a worktree of another
commit: the before of an after). Rounds alternate the contenders, so a neighbour's load spreads
over all.
"""

import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil

from bench.triage_load import BENCH_KEY, _bare_count, _triage_count, ensure_messages
from devstack import infra
from devstack.processes import Managed, free_port, port_open
from services.common.settings import REPO_ROOT

CONTENDERS: dict[str, tuple[list[str], Callable[[int], int | None]]] = {
    "bare": (["-m", "services.triage.bare"], _bare_count),
    "bare-fast": (["-m", "services.triage.bare", "--fast"], _bare_count),
    "bare-fast-uvloop": (["-m", "services.triage.bare", "--fast", "--uvloop"], _bare_count),
    "triage": (["-m", "services.triage"], _triage_count),
    "triage-profiled": (["-m", "cProfile", "-o", "triage.cprofile", "-m", "services.triage"], _triage_count),
}
"""``triage-profiled``: triage under cProfile, its profile written to ``triage.cprofile`` in the worker's
directory when it stops (its CPU figure is the profiler's as much as triage's: read shares, not µs)."""


POLL_S = 1.0
"""Between two reads of the worker's counter. Triage's counter is its /metrics page, and rendering it
took 11 % of the worker's CPU when read every 0.1 s (cProfile): the yardstick must not be the load."""


def _cpu(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


def measure(bootstrap: str, name: str, target: int, broker_pid: int | None, timeout: float = 600.0) -> dict[str, Any]:
    """One drain by contender ``name``: events/s, its CPU µs per event, and the broker's over the same span."""
    contender, _, root = name.partition("@")
    argv, count = CONTENDERS[contender]
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="waspada-cpu-")
    env = {
        **os.environ,
        "WASPADA_KAFKA_BOOTSTRAP": bootstrap,
        "WASPADA_TRIAGE_APP_ID": f"bench-cpu-{name}-{uuid.uuid4().hex[:8]}",
        "WASPADA_TRIAGE_PORT": str(port),
        "WASPADA_TRIAGE_DATA_DIR": workdir,
        "WASPADA_PSEUDONYM_KEY": os.environ.get("WASPADA_PSEUDONYM_KEY", BENCH_KEY),
        "WASPADA_LOG_LEVEL": "WARNING",
    }
    cwd = Path(root) if root else REPO_ROOT
    argv = [a if a != "triage.cprofile" else str(Path(workdir) / a) for a in argv]
    worker = Managed(name, [sys.executable, *argv], env=env, log=Path(workdir) / "worker.log", cwd=cwd).start()
    broker = psutil.Process(broker_pid) if broker_pid else None
    try:
        worker.wait_until(lambda: port_open(port), timeout=60)
        process = psutil.Process(worker.pid)
        deadline = time.monotonic() + timeout
        first: tuple[float, int, float, float] | None = None
        while time.monotonic() < deadline:
            worker.check_alive()
            done = count(port) or 0
            now, cpu, broker_cpu = time.monotonic(), _cpu(process), _cpu(broker) if broker else 0.0
            if first is None and done > 0:
                first = (now, done, cpu, broker_cpu)
            elif first is not None and done >= target:
                events = done - first[1]
                return {
                    "workdir": workdir,
                    "eps": round(events / (now - first[0])),
                    "cpu_us_per_event": round((cpu - first[2]) / events * 1e6, 1),
                    "broker_cpu_us_per_event": round((broker_cpu - first[3]) / events * 1e6, 1),
                }
            time.sleep(POLL_S)
        raise TimeoutError(f"{name} did not process {target} events within {timeout:.0f} s")
    finally:
        worker.stop()


def main() -> None:
    args = sys.argv[1:]
    n = int(args[0]) if args else 60_000
    rounds = int(args[1]) if len(args) > 1 else 3
    names = args[2:] or list(CONTENDERS)
    port = free_port()
    broker = infra.broker(port, log=Path(tempfile.mkdtemp(prefix="waspada-cpu-broker-")) / "broker.log").start()
    try:
        broker.wait_until(lambda: port_open(port))
        bootstrap = f"127.0.0.1:{port}"
        target = ensure_messages(bootstrap, n)
        results: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
        for _ in range(rounds):
            for name in names:
                results[name].append(measure(bootstrap, name, target, broker.pid))
                print(name, results[name][-1], file=sys.stderr, flush=True)
        summary = {
            name: {
                key: [min(v[key] for v in runs), statistics.median(v[key] for v in runs), max(v[key] for v in runs)]
                for key in runs[0]
                if key != "workdir"
            }
            for name, runs in results.items()
        }
        print(json.dumps({"events": target, "rounds": rounds, "min_median_max": summary}, indent=1))
    finally:
        broker.stop()


if __name__ == "__main__":
    main()
