"""Pure logic of ingest: safe validation errors, gzip caps, channel rights, pseudonyms of documents."""

import gzip
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from schemas.events import ADAPTERS, DepartureAnomaly, RecruiterSighting
from services.common.deidentify import deidentify
from services.common.envelope import envelope
from services.common.pseudonym import is_pseudonym, pseudonym
from services.ingest.api.body import MAX_BODY, gunzip_capped
from services.ingest.core.channels import Channel
from services.ingest.core.errors import Refusal
from services.ingest.core.validation import echoable, field_errors

KEY = b"unit-test-key-0123456789"


def _errors(kind: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    with pytest.raises(ValidationError) as caught:
        ADAPTERS[kind].validate_python(body)
    return field_errors(caught.value)


def _departure(**overrides: object) -> dict[str, Any]:
    body = {
        "event_id": str(uuid.uuid4()),
        "occurred_at": datetime.now(UTC).isoformat(),
        "desa_code": "36.04.13.2007",
        "checkpoint": "TPI-SOETTA",
        "traveller": "C1234567",
        "age": 30,
        "sex": "M",
        "declared_purpose": "work",
        "destination_country": "MY",
        "action": "allowed",
    }
    return {**body, **overrides}


def test_unknown_village_is_named_with_its_code() -> None:
    (error,) = _errors("departure_anomaly", _departure(desa_code="11.01.01.9999"))
    assert error["loc"] == ["body", "desa_code"] and error["input"] == "11.01.01.9999"


def test_personal_free_text_and_unknown_fields_are_never_echoed() -> None:
    errors = _errors(
        "departure_anomaly",
        _departure(traveller="N" * 70, description="x" * 4001, nik="3201234567890001", sex="Q"),
    )
    by_field = {e["loc"][1]: e for e in errors}
    assert set(by_field) == {"traveller", "description", "nik", "sex"}
    assert all("input" not in by_field[f] for f in ("traveller", "description", "nik"))
    assert by_field["sex"]["input"] == "Q"


@pytest.mark.parametrize(
    ("loc", "value", "ok"),
    [
        (("age",), 17, True),
        (("recruiter",), "Bang Joni", False),
        ((), {"a": 1}, False),
        (("desa_code",), "9" * 65, False),
        (("indicators", 0), "teleport", True),
    ],
)
def test_echo_rule(loc: tuple[str | int, ...], value: object, ok: bool) -> None:
    assert echoable(loc, value) is ok


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


def test_channel_region_prefixes_match_whole_code_parts() -> None:
    channel = Channel(id="bp3mi", token_sha256="0" * 64, allowed_types=frozenset({"tip"}), allowed_regions=("36.04",))
    assert channel.covers("36.04.13.2007") and not channel.covers("36.040.1.1") and not channel.covers("32.01.01.1001")
    assert channel.may_send("tip") and not channel.may_send("departure_anomaly")


def test_nik_traveller_is_a_document_not_a_phone() -> None:
    event = DepartureAnomaly.model_validate(_departure(traveller="3201 2345 6789 0001"))
    clean, _ = deidentify(event, KEY)
    assert isinstance(clean, DepartureAnomaly)
    assert clean.traveller == pseudonym(KEY, "document", "3201234567890001")
    assert clean.traveller != pseudonym(KEY, "phone", "3201234567890001")


def test_recruiter_phone_spellings_link_and_fake_pseudonyms_are_hashed() -> None:
    base = {"event_id": str(uuid.uuid4()), "occurred_at": datetime.now(UTC).isoformat(), "desa_code": "36.04.13.2007"}
    a = RecruiterSighting.model_validate({**base, "recruiter": "0813-9999-0000", "persons_approached": 1})
    b = RecruiterSighting.model_validate({**base, "recruiter": "+62 813 9999 0000", "persons_approached": 1})
    assert deidentify(a, KEY)[0].recruiter == deidentify(b, KEY)[0].recruiter  # type: ignore[union-attr]
    fake = "psn_" + "Z" * 32  # looks like a pseudonym, is not one: hashed like any other handle
    c = RecruiterSighting.model_validate({**base, "recruiter": fake, "persons_approached": 1})
    assert deidentify(c, KEY)[0].recruiter != fake  # type: ignore[union-attr]
    assert is_pseudonym(pseudonym(KEY, "handle", "x")) and not is_pseudonym(fake)


def test_envelope_is_keyed_by_village_and_carries_no_clear_identifier() -> None:
    event = DepartureAnomaly.model_validate(_departure(reporter={"name": "Pak Budi", "phone": "0812-1111-2222"}))
    record = envelope(event, pseudonym_key=KEY, channel="tpi")
    assert record.topic == "waspada.departure-anomalies.v1" and record.key == b"36.04.13.2007"
    assert b"C1234567" not in record.value and b"Budi" not in record.value and b"1111" not in record.value
    assert dict(record.headers)["waspada-channel"] == b"tpi"


def test_autopipeline_packs_commands_as_redis_py_does() -> None:
    from redis.asyncio.connection import Connection

    from services.ingest.adapters.valkey_pipeline import pack

    commands = [
        ("EVALSHA", "0" * 40, 2, "waspada:ingest:rate:x", "waspada:ingest:event:é", 0, 1, 60, "i:ab:1", 60),
        ("SET", b"k\xff\r\n", "p", "EX", 7776000),
        ("INCRBYFLOAT", "k", 1.5),
    ]
    assert pack(commands) == b"".join(Connection().pack_commands(commands))
    with pytest.raises(TypeError):
        pack([("SET", "k", None)])


class _Recording:
    """A transport that records what reaches the socket (pure logic: no event loop I/O)."""

    def __init__(self) -> None:
        self.written: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.written.append(data)

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_extra_info(self, name: str) -> str:
        return f"info:{name}"


def test_corked_transport_writes_one_turns_writes_as_one_and_flushes_before_close() -> None:
    import asyncio

    from services.ingest.adapters.http_server import CorkedTransport, TurnFlusher

    async def scenario() -> _Recording:
        raw = _Recording()
        corked = CorkedTransport(raw, TurnFlusher(asyncio.get_running_loop()))  # type: ignore[arg-type]
        corked.write(b"HTTP/1.1 202 Accepted\r\n\r\n")
        corked.write(b"{}")
        assert raw.written == []  # not before the loop's next turn
        await asyncio.sleep(0)
        assert raw.written == [b"HTTP/1.1 202 Accepted\r\n\r\n{}"]
        corked.write(b"last")
        corked.close()  # what was written before close still goes out, first
        assert raw.written[-1] == b"last" and raw.closed
        await asyncio.sleep(0)
        assert corked.get_extra_info("peername") == "info:peername"
        return raw

    assert len(asyncio.run(scenario()).written) == 2
