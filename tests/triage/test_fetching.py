"""Triage's worker consumer fetches with a short broker wait (Faust hard-codes 1.5 s)."""

from pathlib import Path

from services.triage.app import build_app
from services.triage.fetching import FETCH_MAX_WAIT_MS
from services.triage.settings import TriageSettings


async def test_the_worker_consumer_waits_at_most_fetch_max_wait_ms_at_the_broker(tmp_path: Path) -> None:
    settings = TriageSettings(kafka_bootstrap="127.0.0.1:9", triage_data_dir=tmp_path, pseudonym_key="k" * 32)
    app = build_app(settings)
    thread = app.consumer._new_consumer_thread()  # type: ignore[attr-defined]
    consumer = thread._create_worker_consumer(app.transport)  # built, not started: nothing connects
    assert consumer._fetch_max_wait_ms == FETCH_MAX_WAIT_MS == 20
