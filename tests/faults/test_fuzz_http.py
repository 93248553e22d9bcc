"""Schemathesis against the OpenAPI of ingest and notify: no 500, no response that breaks its schema.

Ingest reads its bodies by hand (for the contract's 400/413/415 split), so its OpenAPI may not
declare them; where an operation has no request body, the fuzzer is given the event's JSON
Schema from ``schemas/json/`` (the one source of truth) so that it generates real bodies, valid
and invalid, instead of empty ones.
"""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error, response_schema_conformance
from schemathesis.core.result import Ok

from bench import stacks
from devstack.demo_tokens import office_token
from devstack.stack import Stack
from services.common.settings import REPO_ROOT
from tests.support import http

pytestmark = pytest.mark.integration

EXAMPLES = 25
"""Examples per operation and generation mode: bounded, so the whole fuzz takes seconds, not minutes."""
SCHEMAS = REPO_ROOT / "schemas" / "json"
BODY_OF = {
    "/v1/tips": "tip",
    "/v1/departure-anomalies": "departure_anomaly",
    "/v1/recruiter-sightings": "recruiter_sighting",
}


@pytest.fixture(scope="module")
def fuzz_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    stack, _ = stacks.start_pipeline(tmp_path_factory.mktemp("fuzz"))
    yield stack
    stack.stop()


def _event_schema(name: str, components: dict[str, Any]) -> dict[str, Any]:
    """The exported JSON Schema, its ``$defs`` moved into the OpenAPI components."""
    schema = json.loads((SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8"))
    components.update(schema.pop("$defs", {}))
    text = json.dumps(schema).replace("#/$defs/", "#/components/schemas/")
    return dict(json.loads(text))


def with_bodies(openapi: dict[str, Any]) -> dict[str, Any]:
    """``openapi`` with the event schemas as request bodies where the service declares none."""
    components = openapi.setdefault("components", {}).setdefault("schemas", {})
    for path, item in openapi.get("paths", {}).items():
        post = item.get("post")
        if post is None or "requestBody" in post:
            continue
        if path in BODY_OF:
            body = _event_schema(BODY_OF[path], components)
        elif path == "/v1/events:batch":
            body = {
                "type": "object",
                "properties": {"events": {"type": "array", "items": _event_schema("event", components)}},
            }
        else:
            continue
        post["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    text = json.dumps(openapi).replace("#/$defs/", "#/components/schemas/")
    return dict(json.loads(text))


def fuzz(base_url: str, openapi: dict[str, Any], headers: dict[str, str]) -> int:
    """Every operation, positive and negative examples; returns how many requests were made."""
    schema = schemathesis.openapi.from_dict(openapi)
    calls = 0
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), f"the OpenAPI document has an invalid operation: {result}"
        operation = result.ok()
        strategy = st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE)
        )

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=strategy)
        def check(case: Any) -> None:
            nonlocal calls
            calls += 1
            response = case.call(base_url=base_url, headers=headers)
            case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])

        check()
    return calls


def openapi_of(base_url: str) -> dict[str, Any]:
    status, document = http("GET", base_url + "/openapi.json")
    assert status == 200 and isinstance(document, dict)
    return document


def test_ingest_survives_fuzzing(fuzz_stack: Stack) -> None:
    base = fuzz_stack.url("ingest")
    calls = fuzz(base, with_bodies(openapi_of(base)), {"Authorization": f"Bearer {stacks.BENCH_TOKEN}"})
    assert calls >= EXAMPLES
    assert http("GET", base + "/healthz")[0] == 200


def test_notify_survives_fuzzing(fuzz_stack: Stack) -> None:
    base = fuzz_stack.url("notify")
    calls = fuzz(base, openapi_of(base), {"Authorization": f"Bearer {office_token('polres-serang')}"})
    assert calls >= EXAMPLES
    assert http("GET", base + "/healthz")[0] == 200


def test_the_fuzzer_is_given_real_event_bodies() -> None:
    openapi = {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {"/v1/tips": {"post": {"responses": {"202": {"description": "ok"}}}}},
    }
    body = with_bodies(openapi)["paths"]["/v1/tips"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert "desa_code" in body["properties"]
    assert "#/$defs/" not in json.dumps(with_bodies(openapi))
    assert Path(SCHEMAS / "tip.schema.json").exists()
