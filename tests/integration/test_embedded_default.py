"""``make run``'s default: the whole pipeline on the embedded broker, the idempotent producer off.

Every other pipeline test runs on Apache Kafka, as production does; this one guards the stack a
newcomer starts without Java (docs/brokers.md): the walking skeleton, on Tansu.
"""

import pytest

from tests.integration.test_walking_skeleton import (
    test_tip_reaches_polres_and_kanim_as_signed_webhooks as test_the_walking_skeleton_on_the_embedded_broker,
)

pytestmark = [pytest.mark.integration, pytest.mark.broker("embedded")]

__all__ = ["test_the_walking_skeleton_on_the_embedded_broker"]
