"""services/ingest/core/channels.py: what a channel may send, for which villages."""

from services.ingest.core.channels import Channel


def test_channel_region_prefixes_match_whole_code_parts() -> None:
    channel = Channel(id="bp3mi", token_sha256="0" * 64, allowed_types=frozenset({"tip"}), allowed_regions=("36.04",))
    assert channel.covers("36.04.13.2007") and not channel.covers("36.040.1.1") and not channel.covers("32.01.01.1001")
    assert channel.may_send("tip") and not channel.may_send("departure_anomaly")
