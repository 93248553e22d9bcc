"""Known identifiers sent in clear never appear on any topic nor in any line of ingest's log,
whether sent in their own fields or typed into free text.

Each identifier is checked in the spellings a leak could take: as sent, normalised (E.164 phone,
upper-case document without spaces) and as bare digits.
"""

import json
import re
import uuid
from pathlib import Path

import pytest

from devstack.stack import Stack
from schemas.topics import Topics
from tests.factories import departure, sighting, tip, typed
from tests.ingest.client import post
from tests.ingest.conftest import TOKENS
from tests.ingest.topics import read_topics
from tests.support import http

pytestmark = [pytest.mark.integration, pytest.mark.broker("kafka")]


def spellings(*values: str) -> set[str]:
    out = set()
    for value in values:
        digits = re.sub(r"\D", "", value)
        out |= {value, value.replace(" ", "").upper(), value.replace("-", "")}
        if len(digits) >= 8:
            out |= {digits, digits[1:], "62" + digits[1:]}
    return out


def test_identifiers_leave_no_clear_trace_on_topics_or_logs(ingest: Stack, tmp_path: Path) -> None:
    tag = uuid.uuid4().hex[:6]
    number = f"{uuid.uuid4().int % 10**8:08d}"
    phone, nik, passport = f"0812-{number[:4]}-{number[4:]}", "3201 1234 5678 9012", f"x {tag} 991"
    recruiter, name = f"Bang Joni {tag}", f"Ibu Sumiati {tag}"
    url = ingest.url("ingest")
    bodies = [
        ("/v1/tips", tip(reporter={"name": name, "phone": phone})),
        ("/v1/departure-anomalies", departure(traveller=passport, reporter={"name": name})),
        ("/v1/departure-anomalies", departure(traveller=nik)),
        ("/v1/recruiter-sightings", sighting(recruiter=recruiter, reporter={"phone": phone})),
        ("/v1/recruiter-sightings", sighting(recruiter=phone)),
    ]
    for path, body in bodies:
        assert post(url + path, body, TOKENS["open"])[0] == 202
    batch = [typed("tip", tip(reporter={"name": name})), typed("departure_anomaly", departure(traveller=nik, age=-3))]
    assert post(url + "/v1/events:batch", {"events": batch}, TOKENS["open"])[0] == 202
    rejected = departure(traveller=passport, desa_code="36.04.13.9999", reporter={"name": name, "phone": phone})
    assert post(url + "/v1/departure-anomalies", rejected, TOKENS["open"])[0] == 422

    assert ingest.kafka_bootstrap
    records = read_topics(ingest.kafka_bootstrap, Topics.ALL)
    mine = [r for r in records if any(b["event_id"].encode() in r[1] for _, b in bodies)]
    assert len(mine) == len(bodies)
    text = "\n".join(v.decode(errors="replace") + repr(h) for _, v, h in records)
    log = (ingest.workdir / "ingest.log").read_text(errors="replace")
    assert "ingest.rejected" in log  # the log did record the rejections, by field
    secrets = spellings(phone, nik, passport) | {recruiter, name, f"Joni {tag}", f"Sumiati {tag}"}
    for secret in secrets:
        assert secret not in text, f"{secret!r} on a topic"
        assert secret not in log, f"{secret!r} in ingest's log"


def test_identifiers_typed_into_free_text_reach_the_topic_as_pseudonyms(ingest: Stack) -> None:
    number = f"{uuid.uuid4().int % 10**8:08d}"
    phone, malaysian = f"0812-{number[:4]}-{number[4:]}", f"+60 12-{number[:3]} {number[3:7]}"
    nik, mail = f"3201{number}{number[:4]}", f"agen.{number}@mail.example"
    text = f"Perekrut minta dihubungi di WA {phone} atau {malaysian}, NIK korban {nik}, lamaran ke {mail}"
    bodies = [
        ("/v1/tips", tip(description=text)),
        ("/v1/departure-anomalies", departure(description=text)),
        ("/v1/recruiter-sightings", sighting(recruiter=f"6012{number[:7]}", promised_job=f"admin, CV ke {mail}")),
    ]
    url = ingest.url("ingest")
    for path, body in bodies:
        assert post(url + path, body, TOKENS["open"])[0] == 202

    assert ingest.kafka_bootstrap
    records = read_topics(ingest.kafka_bootstrap, Topics.INPUTS)
    mine = {b["event_id"]: json.loads(v) for _, v, _ in records for _, b in bodies if b["event_id"].encode() in v}
    assert len(mine) == len(bodies)
    text_on_topics = "\n".join(json.dumps(v) for v in mine.values())
    for secret in spellings(phone, malaysian, nik) | {mail, number}:
        assert secret not in text_on_topics, f"{secret!r} on a topic"
    tip_body, _, sighting_body = (mine[b["event_id"]] for _, b in bodies)
    assert "Perekrut minta dihubungi di WA psn_" in tip_body["description"]
    assert sighting_body["recruiter"] in tip_body["description"], "one Malaysian number, one pseudonym"
    _, metrics_text = http("GET", url + "/metrics")
    counted = {
        line.split("{")[1].split(",")[0]: float(line.rsplit(" ", 1)[1])
        for line in str(metrics_text).splitlines()
        if line.startswith("waspada_scrubbed_total{") and 'service="ingest"' in line
    }
    assert counted['rule="phone"'] >= 4 and counted['rule="nik"'] >= 2 and counted['rule="email"'] >= 3
