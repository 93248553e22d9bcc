"""services/ingest/api/problems.py: every exception a request ends in, and its answer."""

import orjson
from redis.exceptions import ConnectionError as RedisConnectionError

from services.ingest.api.problems import problem
from services.ingest.core.errors import IngestError, RateLimited, Refusal, unavailable


def test_an_ingest_error_answers_its_status_detail_and_headers() -> None:
    status, body, headers = problem(Refusal(401, "missing or unknown bearer token", {"WWW-Authenticate": "Bearer"}), 5)
    assert status == 401 and orjson.loads(body) == {"detail": "missing or unknown bearer token"}
    assert (b"www-authenticate", b"Bearer") in headers and headers[0] == (b"content-type", b"application/json")
    status, body, headers = problem(unavailable("Kafka cannot take the event now", 7), 5)
    assert status == 503 and (b"retry-after", b"7") in headers
    assert orjson.loads(body)["detail"].endswith("retry later with the same event_id")


def test_a_redis_error_left_over_is_503_and_anything_else_500_without_its_message() -> None:
    status, _, headers = problem(RedisConnectionError("down"), 5)
    assert status == 503 and (b"retry-after", b"5") in headers
    status, body, _ = problem(ValueError("tip from 0812-1111-2222"), 5)
    assert status == 500 and orjson.loads(body) == {"detail": "internal error"}


def test_every_answer_other_than_202_has_the_one_root() -> None:
    assert issubclass(Refusal, IngestError) and issubclass(RateLimited, IngestError)
    assert RateLimited(0).retry_after == 1
