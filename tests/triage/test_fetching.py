"""Triage's worker consumer fetches with a short broker wait (Faust hard-codes 1.5 s).

In a subprocess: building the triage app registers its Prometheus metrics, which notify's tests
register too in this process.
"""

import os
import subprocess
import sys
from pathlib import Path

from services.common.settings import REPO_ROOT
from services.triage.fetching import FETCH_MAX_WAIT_MS

PROBE = """
import asyncio
from services.triage.app import build_app
from services.triage.settings import TriageSettings

async def main():
    app = build_app(TriageSettings())
    thread = app.consumer._new_consumer_thread()
    print(thread._create_worker_consumer(app.transport)._fetch_max_wait_ms)  # built, not started

asyncio.run(main())
"""


def test_the_worker_consumer_waits_at_most_fetch_max_wait_ms_at_the_broker(tmp_path: Path) -> None:
    env = os.environ | {
        "WASPADA_KAFKA_BOOTSTRAP": "127.0.0.1:9",  # nothing connects: the consumer is only built
        "WASPADA_TRIAGE_DATA_DIR": str(tmp_path),
        "WASPADA_PSEUDONYM_KEY": "k" * 32,
    }
    out = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert out.returncode == 0, out.stderr
    assert int(out.stdout.strip().splitlines()[-1]) == FETCH_MAX_WAIT_MS == 20
