"""services/ingest/api/body.py: a gzip body is capped after inflating; a corrupt one is 400."""

import gzip

import pytest

from services.ingest.api.body import MAX_BODY, gunzip_capped
from services.ingest.core.errors import Refusal


def test_gzip_is_capped_after_inflating_and_corruption_is_400() -> None:
    assert gunzip_capped(gzip.compress(b"{}")) == b"{}"
    with pytest.raises(Refusal) as too_big:
        gunzip_capped(gzip.compress(b"0" * (MAX_BODY + 1)))
    assert too_big.value.status == 413
    with pytest.raises(Refusal) as corrupt:
        gunzip_capped(b"\x1f\x8b not gzip at all")
    assert corrupt.value.status == 400
    with pytest.raises(Refusal) as truncated:
        gunzip_capped(gzip.compress(b'{"a": 1}')[:-6])
    assert truncated.value.status == 400
