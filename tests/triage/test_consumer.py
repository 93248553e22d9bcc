"""Triage's worker consumer: a short broker wait, and commits that never skip or crawl (``consumer.py``).

In a subprocess: building the triage app registers its Prometheus metrics, which notify's tests
register too in this process.
"""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from services.common.settings import REPO_ROOT
from services.triage.consumer import FETCH_MAX_WAIT_MS

FETCH_WAIT_PROBE = """
import asyncio
from services.triage.app import build_app
from services.triage.settings import TriageSettings

async def main():
    app = build_app(TriageSettings())
    thread = app.consumer._new_consumer_thread()
    print(thread._create_worker_consumer(app.transport)._fetch_max_wait_ms)  # built, not started

asyncio.run(main())
"""

# What a restart did (triage.log of a slow test_crash run): committed offset 9, records 9 and 10
# acknowledged, then a record fetched before the recovery's seek arrived as 18 while the read offset
# was back at 9, and the records 11-18 read again were acknowledged. Acks as Faust's stream makes them.
AFTER_SEEK_PROBE = """
import asyncio, json
from faust.transport.drivers.aiokafka import Consumer as FaustConsumer
from faust.types import TP
from services.triage.app import build_app
from services.triage.settings import TriageSettings

def ack(consumer, tp, offset):
    if offset >= consumer._committed_offset[tp] and offset not in consumer._acked_index[tp]:
        consumer._acked_index[tp].add(offset)
        consumer._acked[tp].append(offset)

async def commits(consumer):
    tp = TP("waspada.tips.v1", 1)
    consumer._committed_offset[tp] = 9
    ack(consumer, tp, 9)
    ack(consumer, tp, 10)
    await consumer._add_gap(tp, 10, 18)  # what Faust's fetch loop calls for record 18 at read offset 9
    for offset in range(11, 19):
        ack(consumer, tp, offset)
    offsets = []
    while (offset := consumer._new_offset(tp)) is not None and consumer._should_commit(tp, offset):
        consumer._committed_offset[tp] = offset
        offsets.append(offset)
    return offsets

async def main():
    app = build_app(TriageSettings())
    c = app.consumer
    stock = FaustConsumer(app.transport, callback=c.callback, on_partitions_revoked=c._on_partitions_revoked,
                          on_partitions_assigned=c._on_partitions_assigned)
    print(json.dumps({"triage": await commits(app.consumer), "faust": await commits(stock)}))

asyncio.run(main())
"""


def _probe(code: str, tmp_path: Path) -> str:
    env = os.environ | {
        "WASPADA_KAFKA_BOOTSTRAP": "127.0.0.1:9",  # nothing connects: the consumer is only built
        "WASPADA_TRIAGE_DATA_DIR": str(tmp_path),
        "WASPADA_PSEUDONYM_KEY": "k" * 32,
    }
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip().splitlines()[-1]


def test_the_worker_consumer_waits_at_most_fetch_max_wait_ms_at_the_broker(tmp_path: Path) -> None:
    assert int(_probe(FETCH_WAIT_PROBE, tmp_path)) == FETCH_MAX_WAIT_MS == 20


def test_a_record_from_before_the_seek_does_not_make_the_commit_crawl(tmp_path: Path) -> None:
    commits: dict[str, Any] = json.loads(_probe(AFTER_SEEK_PROBE, tmp_path))
    assert commits["triage"] == [19], "one commit covers every record processed, 9 to 18"
    # Faust's own consumer, same acks: the gap doubles 10-18, and each commit moves one record
    assert commits["faust"][:3] == [11, 12, 13], commits["faust"]


UVLOOP_PROBE = """
import faust.worker
import services.triage.__main__ as entry
faust.worker.Worker.execute_from_commandline = lambda self: print(type(self.loop).__module__)  # built, not run
entry.main()
"""


def test_the_worker_runs_on_uvloop(tmp_path: Path) -> None:
    assert _probe(UVLOOP_PROBE, tmp_path) == "uvloop"
