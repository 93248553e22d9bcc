"""Faust's own producer, idempotent on Apache Kafka like every other Waspada producer.

Faust has no setting for it: ``producer_enable_idempotence=`` is dropped without a word (Faust's
settings ignore unknown names), and its aiokafka driver turns idempotence on only inside
transactions. Its producer writes what a Faust topic sends (triage's dead letters and re-keyed
records), so the app's transport gets this class instead:
``app.transport.Producer = faust_producer(settings.kafka_idempotent_producer)``.
"""

from collections.abc import Mapping
from typing import Any

from faust.transport.drivers import aiokafka as driver


class IdempotentProducer(driver.Producer):
    """The aiokafka driver's producer with acks=all and ``enable_idempotence`` always on."""

    def _settings_extra(self) -> Mapping[str, Any]:
        return {**super()._settings_extra(), "acks": "all", "enable_idempotence": True}


def faust_producer(idempotent: bool) -> type[driver.Producer]:
    """The producer class for ``WASPADA_KAFKA_IDEMPOTENT_PRODUCER`` (false on the embedded broker)."""
    return IdempotentProducer if idempotent else driver.Producer
