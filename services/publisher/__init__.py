"""The publisher client for upstream systems that publish straight onto the input topics.

It validates with the same models as ingest and pseudonymises with the same key before a record
leaves the upstream system, so a clear identifier never reaches a topic this way either. Built on
kafka-python (synchronous, simple to embed in a batch export job). Triage still validates what
arrives, and deduplicates by ``event_id``; this client does not hold ingest's idempotency record.
"""

from services.publisher.client import LineResult, Publisher

__all__ = ["LineResult", "Publisher"]
