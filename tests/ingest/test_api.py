"""CONTRACT §3 status by status, through a real ingest process, broker and Valkey."""

import gzip
import json
import uuid

import pytest

from devstack.stack import Stack
from schemas.topics import Topics
from tests.factories import departure, now_minus, sighting, tip, typed
from tests.ingest.client import post, post_raw
from tests.ingest.conftest import RATE_LIMIT, TOKENS
from tests.ingest.topics import read_topics
from tests.support import http

pytestmark = [pytest.mark.integration, pytest.mark.broker("kafka")]
OPEN, BANTEN = TOKENS["open"], TOKENS["banten"]


def url(stack: Stack, path: str) -> str:
    return stack.url("ingest") + path


@pytest.mark.parametrize(
    ("path", "body"),
    [("/v1/tips", tip()), ("/v1/departure-anomalies", departure()), ("/v1/recruiter-sightings", sighting())],
)
def test_each_type_is_accepted_once_then_duplicate(ingest: Stack, path: str, body: dict[str, object]) -> None:
    first = post(url(ingest, path), body, OPEN)
    again = post(url(ingest, path), body, OPEN)
    assert first[:2] == (202, {"event_id": body["event_id"], "status": "accepted"})
    assert again[:2] == (202, {"event_id": body["event_id"], "status": "duplicate"})


def test_accepted_event_is_on_its_topic_once_keyed_by_village(ingest: Stack) -> None:
    body = departure()
    assert post(url(ingest, "/v1/departure-anomalies"), body, OPEN)[0] == 202
    post(url(ingest, "/v1/departure-anomalies"), body, OPEN)
    assert ingest.kafka_bootstrap
    records = [
        (json.loads(v), dict(h))
        for _, v, h in read_topics(ingest.kafka_bootstrap, [Topics.DEPARTURE_ANOMALIES])
        if body["event_id"].encode() in v
    ]
    assert len(records) == 1
    value, headers = records[0]
    assert value["traveller"].startswith("psn_") and headers["waspada-channel"] == b"open"


def test_unparseable_json_is_400(ingest: Stack) -> None:
    status, answer, _ = post_raw(
        url(ingest, "/v1/tips"),
        b'{"event_id": ',
        {"Content-Type": "application/json", "Authorization": f"Bearer {OPEN}"},
    )
    assert status == 400 and "unparseable JSON" in answer["detail"]


@pytest.mark.parametrize("header", [None, "Bearer wrong-token", "Basic b3Blbg==", OPEN])
def test_missing_or_unknown_token_is_401(ingest: Stack, header: str | None) -> None:
    headers = {"Content-Type": "application/json", **({"Authorization": header} if header else {})}
    status, _, got = post_raw(url(ingest, "/v1/tips"), json.dumps(tip()).encode(), headers)
    assert status == 401 and got.get("www-authenticate", got.get("WWW-Authenticate")) == "Bearer"


def test_type_or_region_not_allowed_is_403(ingest: Stack) -> None:
    wrong_type = post(url(ingest, "/v1/departure-anomalies"), departure(), BANTEN)
    wrong_region = post(url(ingest, "/v1/tips"), tip("62.71.01.1003"), BANTEN)
    assert wrong_type[0] == 403 and "departure_anomaly" in wrong_type[1]["detail"]
    assert wrong_region[0] == 403 and "62.71.01.1003" in wrong_region[1]["detail"]
    assert post(url(ingest, "/v1/tips"), tip("36.04.13.2007"), BANTEN)[0] == 202


def test_body_over_one_mebibyte_is_413_also_once_ungzipped(ingest: Stack) -> None:
    big = tip(description="x" * (1024 * 1024))
    assert post(url(ingest, "/v1/tips"), big, OPEN)[0] == 413
    bomb = gzip.compress(b'{"a": "' + b"0" * (8 * 1024 * 1024) + b'"}')
    assert len(bomb) < 64 * 1024
    headers = {"Content-Type": "application/json", "Content-Encoding": "gzip", "Authorization": f"Bearer {OPEN}"}
    status, answer, _ = post_raw(url(ingest, "/v1/tips"), bomb, headers)
    assert (status, answer) == (413, {"detail": "decompressed body over 1 MiB"})


def test_gzip_body_is_accepted(ingest: Stack) -> None:
    body = tip()
    assert post(url(ingest, "/v1/tips"), body, OPEN, gzipped=True)[:2] == (
        202,
        {"event_id": body["event_id"], "status": "accepted"},
    )


@pytest.mark.parametrize(
    "headers",
    [
        {"Content-Type": "text/plain"},
        {"Content-Type": "application/x-www-form-urlencoded"},
        {},
        {"Content-Type": "application/json", "Content-Encoding": "br"},
    ],
)
def test_not_json_or_unsupported_encoding_is_415(ingest: Stack, headers: dict[str, str]) -> None:
    status, _, _ = post_raw(
        url(ingest, "/v1/tips"), json.dumps(tip()).encode(), {**headers, "Authorization": f"Bearer {OPEN}"}
    )
    assert status == 415


def test_unknown_village_is_422_naming_field_and_code(ingest: Stack) -> None:
    status, answer, _ = post(url(ingest, "/v1/tips"), tip("36.04.13.9999"), OPEN)
    assert status == 422
    (error,) = answer["detail"]
    assert error["loc"] == ["body", "desa_code"] and error["input"] == "36.04.13.9999"
    assert "36.04.13.9999" in error["msg"]


def test_timestamp_more_than_five_minutes_ahead_is_422(ingest: Stack) -> None:
    status, answer, _ = post(url(ingest, "/v1/tips"), tip(occurred_at=now_minus(-6)), OPEN)
    assert status == 422 and answer["detail"][0]["loc"] == ["body", "occurred_at"]
    assert post(url(ingest, "/v1/tips"), tip(occurred_at=now_minus(-4)), OPEN)[0] == 202


def test_422_never_echoes_a_personal_identifier(ingest: Stack) -> None:
    traveller = "A" * 65 + "NIK3201234567890001"
    status, answer, _ = post(url(ingest, "/v1/departure-anomalies"), departure(traveller=traveller, age=-1), OPEN)
    assert status == 422
    assert {tuple(e["loc"]) for e in answer["detail"]} == {("body", "traveller"), ("body", "age")}
    assert "3201234567890001" not in json.dumps(answer)
    reporter = {"name": "Ibu Rahasia", "phone": "0812", "nik": "3201234567890002"}
    status, answer, _ = post(url(ingest, "/v1/tips"), tip(reporter=reporter), OPEN)
    assert status == 422 and "Rahasia" not in json.dumps(answer) and "3201234567890002" not in json.dumps(answer)


@pytest.mark.usefixtures("fresh_rate")
def test_past_the_channel_rate_is_429_with_retry_after(ingest: Stack) -> None:
    answers = [post(url(ingest, "/v1/tips"), tip(), TOKENS["limited"]) for _ in range(RATE_LIMIT + 2)]
    assert [a[0] for a in answers] == [202] * RATE_LIMIT + [429, 429]
    retry_after = int(
        answers[-1][2]["retry-after"] if "retry-after" in answers[-1][2] else answers[-1][2]["Retry-After"]
    )
    assert 1 <= retry_after <= 60


def test_mixed_batch_answers_each_event_in_input_order(ingest: Stack) -> None:
    good_tip, good_departure, repeat = tip(), departure(), tip()
    post(url(ingest, "/v1/tips"), repeat, OPEN)
    unknown_village = tip("36.04.13.9999")
    tip_ids = [good_tip["event_id"], unknown_village["event_id"]]
    events: list[object] = [
        typed("tip", good_tip),
        typed("tip", unknown_village),
        {"type": "rumour", "event_id": str(uuid.uuid4())},
        typed("departure_anomaly", good_departure),
        typed("tip", repeat),
        "not an object",
        typed("tip", good_tip),
    ]
    status, answer, _ = post(url(ingest, "/v1/events:batch"), {"events": events}, OPEN)
    assert status == 202
    results = answer["results"]
    assert [r["status"] for r in results] == [
        "accepted",
        "rejected",
        "rejected",
        "accepted",
        "duplicate",
        "rejected",
        "duplicate",
    ]
    assert [r["event_id"] for r in results][:2] == [good_tip["event_id"], tip_ids[1]]
    assert results[1]["errors"][0]["loc"] == ["body", "events", 1, "desa_code"]
    assert results[1]["errors"][0]["input"] == "36.04.13.9999"
    assert (
        results[2]["errors"][0]["loc"] == ["body", "events", 2, "type"] and results[2]["errors"][0]["input"] == "rumour"
    )
    assert results[5]["event_id"] is None and "errors" not in results[0]


def test_batch_item_outside_the_channel_is_rejected_alone(ingest: Stack) -> None:
    inside, outside = tip("36.04.13.2007"), tip("62.71.01.1003")
    status, answer, _ = post(
        url(ingest, "/v1/events:batch"), {"events": [typed("tip", inside), typed("tip", outside)]}, BANTEN
    )
    assert status == 202
    assert [r["status"] for r in answer["results"]] == ["accepted", "rejected"]
    assert answer["results"][1]["errors"][0]["type"] == "forbidden"


@pytest.mark.parametrize("body", [{"events": []}, {"events": [{}] * 1001}, {"items": []}, [1, 2]])
def test_batch_of_wrong_shape_is_422(ingest: Stack, body: object) -> None:
    status, answer, _ = post(url(ingest, "/v1/events:batch"), body, OPEN)
    assert status == 422 and answer["detail"][0]["loc"][0] == "body"


def test_health_ready_and_metrics(ingest: Stack) -> None:
    assert http("GET", url(ingest, "/healthz")) == (200, {"status": "ok"})
    assert http("GET", url(ingest, "/readyz")) == (200, {"status": "ready"})
    _, text = http("GET", url(ingest, "/metrics"))
    for status in ("accepted", "duplicate", "rejected", "rate_limited", "forbidden", "unauthorized"):
        assert f'status="{status}"' in text, status
    assert 'waspada_ingest_request_seconds_bucket{code="202",le="0.005",route="/v1/tips"}' in text
    assert 'channel="unknown",status="unauthorized",type="tip"' in text


def test_openapi_documents_every_status_and_request_body(ingest: Stack) -> None:
    _, doc = http("GET", url(ingest, "/openapi.json"))
    for path in ("/v1/tips", "/v1/departure-anomalies", "/v1/recruiter-sightings", "/v1/events:batch"):
        operation = doc["paths"][path]["post"]
        codes = set(operation["responses"])
        expected = {"202", "400", "401", "413", "415", "422", "429", "503"} | (
            {"403"} if "batch" not in path else set()
        )
        assert expected <= codes, (path, codes)
        assert set(operation["responses"]["202"]["content"]["application/json"]["examples"]) >= {"id", "en"}
        ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        assert ref.rsplit("/", 1)[1] in doc["components"]["schemas"]
    assert http("GET", url(ingest, "/docs"))[0] == 200
