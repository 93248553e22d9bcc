"""services/ingest/core/rules.py: a channel's rights over an event, and which event ids are echoed back."""

import uuid

from schemas.events import ADAPTERS
from services.ingest.core.channels import Channel
from services.ingest.core.rules import event_id_of, forbidden
from tests.factories import LONTAR, departure, tip


def _channel(types: set[str], regions: tuple[str, ...]) -> Channel:
    return Channel(id="tpi", token_sha256="0" * 64, allowed_types=frozenset(types), allowed_regions=regions)


def test_a_type_or_a_village_outside_the_channels_rights_is_named() -> None:
    event = ADAPTERS["tip"].validate_python(tip())
    assert forbidden(_channel({"tip"}, ("36.04",)), event) is None
    assert forbidden(_channel({"departure_anomaly"}, ("*",)), event) == "channel tpi may not send tip events"
    assert forbidden(_channel({"tip"}, ("32",)), event) == f"channel tpi may not send events for village {LONTAR}"
    other = ADAPTERS["departure_anomaly"].validate_python(departure())
    assert forbidden(_channel({"tip"}, ("*",)), other) is not None


def test_only_a_uuid_event_id_is_echoed() -> None:
    given = str(uuid.uuid4())
    assert event_id_of({"event_id": given.upper()}) == given
    assert event_id_of({"event_id": "not-a-uuid"}) is None
    assert event_id_of({"event_id": 7}) is None and event_id_of(["x"]) is None
