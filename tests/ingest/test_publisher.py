"""The publisher client and its CLI: same validation as ingest, pseudonymised before Kafka."""

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from devstack.stack import DEV_PSEUDONYM_KEY, Stack
from schemas.topics import Topics
from services.common.settings import REPO_ROOT
from tests.factories import departure, sighting, tip, typed
from tests.ingest.topics import read_topics

pytestmark = [pytest.mark.integration, pytest.mark.broker("kafka")]


def test_cli_publishes_valid_lines_and_names_rejected_ones_by_line_and_field(infra: Stack, tmp_path: Path) -> None:
    good = [typed("tip", tip()), typed("departure_anomaly", departure(traveller="B 7654321")), sighting()]
    lines = [
        json.dumps(good[0]),
        json.dumps(typed("tip", tip("36.04.13.9999"))),
        "",
        json.dumps(good[1]),
        "{not json",
        json.dumps(good[2]),  # no type: --type recruiter_sighting applies
        json.dumps(typed("departure_anomaly", departure(traveller="C 1112223", sex="Q"))),
    ]
    export = tmp_path / "checkpoint-export.jsonl"
    export.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert infra.kafka_bootstrap
    env = {
        **os.environ,
        "WASPADA_KAFKA_BOOTSTRAP": infra.kafka_bootstrap,
        "WASPADA_PSEUDONYM_KEY": DEV_PSEUDONYM_KEY,
        "COLUMNS": "200",
    }
    argv = [
        sys.executable,
        "-m",
        "services.publisher",
        str(export),
        "--type",
        "recruiter_sighting",
        "--channel",
        "tpi-x",
    ]
    done = subprocess.run(argv, env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 1, done.stderr
    out = done.stdout
    assert "3 accepted" in out and "3 rejected" in out
    assert "line 2: desa_code:" in out and "36.04.13.9999" in out
    assert "line 5: (line): not valid JSON" in out
    assert "line 7: sex:" in out and "C 1112223" not in out and "C1112223" not in out

    records = read_topics(infra.kafka_bootstrap, Topics.INPUTS)
    ids = {b["event_id"] for b in good}
    mine = [(t, json.loads(v), dict(h)) for t, v, h in records if json.loads(v)["event_id"] in ids]
    assert sorted(t for t, _, _ in mine) == sorted(Topics.INPUTS)
    personal = {Topics.DEPARTURE_ANOMALIES: "traveller", Topics.RECRUITER_SIGHTINGS: "recruiter"}
    for topic, value, headers in mine:
        assert headers["waspada-channel"] == b"tpi-x"
        assert "7654321" not in json.dumps(value) and "9999-0000" not in json.dumps(value)
        if topic in personal:  # each of these two records names its person: it must arrive as a pseudonym
            assert str(value[personal[topic]]).startswith("psn_"), (topic, value)


def test_cli_with_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WASPADA_")} | {"WASPADA_PSEUDONYM_KEY": "k" * 20}
    argv = [sys.executable, "-m", "services.publisher", str(tmp_path / "missing.jsonl")]
    done = subprocess.run(argv, env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2 and "missing.jsonl: file not found" in done.stderr


def test_client_refuses_to_send_an_invalid_event(infra: Stack) -> None:
    from services.publisher import Publisher

    assert infra.kafka_bootstrap
    publisher = Publisher(infra.kafka_bootstrap, b"k" * 20, "unit")
    try:
        result = publisher.offer(1, {"type": "tip", "event_id": str(uuid.uuid4())})
        assert not result.accepted and any(e.startswith("occurred_at:") for e in result.errors)
        assert publisher.futures == []
    finally:
        publisher.close()
