"""The exceptions that mean a dependency is away (Valkey, Kafka, the network), not that a record is bad.

A batch that fails with one of them is replayed, since a retry mends it; anything else a record
raises is poison and is dead-lettered (``flows/consumer.py``).
"""

from aiokafka.errors import KafkaError
from redis.exceptions import RedisError

OUTAGES: tuple[type[Exception], ...] = (RedisError, KafkaError, OSError)
