"""``make drills RUNS=10``: every Apache Kafka fault drill run N times, and a table of what they found.

Each run is a pytest process of its own (a drill leaves nothing behind for the next one) with
``WASPADA_DRILL_LOG`` set: the drill appends a JSON line of its books (tests/faults/drill.py
``log_run``). The table is computed from those lines only, so a file of an earlier run can be
tabulated again (``--table-only``). The drills run in their long variants (``make faults``'s: the
30 s stall issue 16 asks for), unless ``--short``. A run that died before it wrote a line (its stack did not
start) counts as a failure without figures.

Columns: passes/N; lost (accepted villages never notified, summed over runs); double (webhook-ids
delivered again after a 2xx their sender could read); again-unread (delivered again after a 2xx
answered when the sender was already dead: a kill's unavoidable resend, same webhook-id); resumed
min/median/max (seconds from the fault to the first escalation on the slowest partition, or on the
partitions that moved in the replica drill: the takeover time); notify resumed likewise.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from services.common.settings import REPO_ROOT

DRILLS = (
    "tests/faults/test_broker_faults.py::test_leader_of_an_input_and_an_escalations_partition_killed_and_restarted_loses_nothing",
    "tests/faults/test_broker_faults.py::test_broker_stalled_under_load_loses_nothing",
    "tests/faults/test_replica_failover.py::test_one_replica_of_each_service_killed_under_load_the_survivors_take_over",
    "tests/faults/test_service_restarts.py::test_triage_sigkilled_and_restarted_loses_nothing",
    "tests/faults/test_service_restarts.py::test_notify_restarted_mid_delivery_sends_nothing_twice",
    "tests/faults/test_dependency_outages.py::test_valkey_restarted_under_load_loses_nothing",
    "tests/faults/test_dependency_outages.py::test_webhook_receiver_down_for_a_while_is_caught_up",
)
"""The drills that run on Apache Kafka (one node or three); the embedded broker's S3 drill is not one of them."""


def run(drill: str, log: Path, index: int, runs: int, *, long: bool = True) -> bool:
    """One pytest process for one run of ``drill``; True when a line of it reached ``log``.

    ``long``: the drills' long variants, as ``make faults`` runs them (a 30 s stall, a receiver down a minute).
    """
    before = _lines(log)
    env = {**os.environ, "WASPADA_DRILL_LOG": str(log)}
    if long:
        env["WASPADA_FAULTS_LONG"] = "1"
    argv = [sys.executable, "-m", "pytest", drill, "-q", "-p", "no:cacheprovider", "-x"]
    started = time.monotonic()
    done = subprocess.run(argv, env=env, cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    name = drill.rsplit("::", 1)[-1]
    wrote = _lines(log) > before
    if not wrote:  # no books: the stack did not start, or pytest failed before the drill
        with log.open("a", encoding="utf-8") as out:
            tail = (done.stdout + done.stderr).strip().splitlines()[-3:]
            out.write(json.dumps({"drill": name, "t": time.time(), "passed": False, "error": " | ".join(tail)}) + "\n")
    outcome = "passed" if done.returncode == 0 else f"FAILED (exit {done.returncode})"
    print(f"[{index}/{runs}] {name}: {outcome} in {time.monotonic() - started:.0f} s", flush=True)
    return wrote


def _lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines()) if path.exists() else 0


def _spread(values: list[float]) -> str:
    if not values:
        return "-"
    return f"{min(values):.1f} / {statistics.median(values):.1f} / {max(values):.1f}"


def table(lines: list[dict[str, Any]]) -> str:
    """One row per drill, from the log's lines (see the module's docstring for the columns)."""
    by_drill: dict[str, list[dict[str, Any]]] = {}
    for line in lines:
        by_drill.setdefault(line["drill"], []).append(line)
    header = ("drill", "passes/N", "lost", "double", "again-unread", "resumed s min/med/max", "notify resumed s")
    rows = [header]
    for drill, runs in by_drill.items():
        rows.append((
            drill.removeprefix("test_"),
            f"{sum(1 for r in runs if r['passed'])}/{len(runs)}",
            str(sum(r.get("lost", 0) or 0 for r in runs)),
            str(sum(r.get("double_delivered", 0) or 0 for r in runs)),
            str(sum(r.get("again_after_unread_2xx", 0) or 0 for r in runs)),
            _spread([r["resumed_s"] for r in runs if r.get("resumed_s") is not None]),
            _spread([r["notify_resumed_s"] for r in runs if r.get("notify_resumed_s") is not None]),
        ))  # fmt: skip
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    out = [" | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    out.insert(1, "-+-".join("-" * w for w in widths))
    failures = [
        f"  {r['drill']}: {r.get('error', '')[:300]}" for rs in by_drill.values() for r in rs if not r["passed"]
    ]
    return "\n".join(out + (["", "failures:", *failures] if failures else []))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("-k", dest="only", default="", help="only the drills whose name has one of these (a,b,c)")
    parser.add_argument(
        "--log", type=Path, default=None, help="the JSON-lines file (default: a new one in test-output/)"
    )
    parser.add_argument("--short", action="store_true", help="make test's short variants (a 10 s stall…)")
    parser.add_argument("--table-only", action="store_true", help="tabulate --log without running anything")
    args = parser.parse_args()
    log = args.log or REPO_ROOT / "test-output" / f"drills-{time.strftime('%Y%m%dT%H%M%S')}.jsonl"
    if not args.table_only:
        log.parent.mkdir(parents=True, exist_ok=True)
        words = [w for w in args.only.split(",") if w] or [""]
        drills = [d for d in DRILLS if any(w in d for w in words)]
        if not drills:
            raise SystemExit(f"no Kafka drill matches {args.only!r}: {', '.join(d.rsplit('::')[-1] for d in DRILLS)}")
        print(f"{len(drills)} drills x {args.runs} runs; books in {log}", flush=True)
        for index in range(1, args.runs + 1):  # round after round: a bad hour of the machine hits every drill alike
            for drill in drills:
                run(drill, log, index, args.runs, long=not args.short)
    lines = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line.strip()]
    print(table(lines))


if __name__ == "__main__":
    main()
