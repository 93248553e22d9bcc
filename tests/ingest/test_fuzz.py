"""Schemathesis against ``/openapi.json``: no generated request, valid or not, makes ingest answer 500.

Positive and negative cases for every documented POST operation (and a few for the GET ones), about
200 requests in all, through a real ingest process with a valid channel token so that bodies
get past authentication. Driven through Hypothesis directly: schemathesis' pytest plugin does
not run under pytest 9.
"""

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from devstack.stack import Stack
from tests.ingest.conftest import TOKENS

pytestmark = [pytest.mark.integration, pytest.mark.broker("kafka")]
ALLOWED = {200, 202, 400, 401, 403, 405, 413, 415, 422, 429, 503}


SEEN: dict[int, int] = {}
"""Statuses answered, to show the run reached both acceptance and validation."""


def _check(case: Any) -> None:
    response = case.call(headers={"Authorization": f"Bearer {TOKENS['open']}"}, timeout=20)
    SEEN[response.status_code] = SEEN.get(response.status_code, 0) + 1
    assert response.status_code in ALLOWED, (case.method, case.path, response.status_code, response.text[:300])
    if response.status_code == 503:
        assert "retry-after" in {k.lower() for k in response.headers}


def test_no_generated_request_makes_ingest_answer_500(ingest: Stack) -> None:
    schema = schemathesis.openapi.from_url(ingest.url("ingest") + "/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    assert {op.path for op in operations if op.method.upper() == "POST"} == {
        "/v1/tips",
        "/v1/departure-anomalies",
        "/v1/recruiter-sightings",
        "/v1/events:batch",
    }
    for operation in operations:
        post = operation.method.upper() == "POST"
        for mode in [GenerationMode.POSITIVE, GenerationMode.NEGATIVE] if post else [GenerationMode.POSITIVE]:
            run = given(case=operation.as_strategy(generation_mode=mode))(_check)
            limits = settings(max_examples=25 if post else 3, deadline=None, database=None)
            settings(limits, suppress_health_check=list(HealthCheck))(run)()
    assert SEEN.get(202, 0) > 0 and SEEN.get(422, 0) > 0, SEEN  # both valid and invalid bodies got through
