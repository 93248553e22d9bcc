"""Faust's producer gets the idempotence the setting asks for (Faust itself has no setting for it)."""

import faust
import pytest

from services.common.faust_producer import faust_producer


@pytest.mark.parametrize("idempotent", [True, False])
async def test_the_producer_faust_creates_is_idempotent_when_asked(idempotent: bool) -> None:
    app = faust.App("waspada-test", broker="kafka://127.0.0.1:1")
    app.transport.Producer = faust_producer(idempotent)  # type: ignore[misc]
    client = app.producer._new_producer()  # type: ignore[attr-defined]
    assert (client._txn_manager is not None) is idempotent  # aiokafka's InitProducerId state
    assert client.client is not None


async def test_faust_drops_its_own_look_alike_setting() -> None:
    """Why the class exists: the keyword triage passed to Faust never reached the producer."""
    app = faust.App("waspada-test", broker="kafka://127.0.0.1:1", producer_enable_idempotence=True)
    assert app.producer._new_producer()._txn_manager is None  # type: ignore[attr-defined]
