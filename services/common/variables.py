"""Every ``WASPADA_*`` variable some part of Waspada reads: the list a misspelling is checked against.

The services share one environment (``make run``, compose and the test stacks give every process
the same variables), so a variable is unknown only when no part reads it: ``WASPADA_DIRECTORY``
is notify's, and ingest must not refuse it. The names live here, as data, so that no service has
to import another's settings to know them; ``tests/common/test_variables.py`` fails when this list
and the settings classes (and the few variables read outside them) drift apart.
"""

from typing import Final

KNOWN: Final[dict[str, str]] = {
    # every service (services.common.settings.CommonSettings)
    "WASPADA_KAFKA_BOOTSTRAP": "all",
    "WASPADA_KAFKA_IDEMPOTENT_PRODUCER": "all",
    "WASPADA_KAFKA_REPLICATION_FACTOR": "all",
    "WASPADA_REDIS_URL": "all",
    "WASPADA_LOG_LEVEL": "all",
    "WASPADA_LOG_JSON": "all",
    # ingest
    "WASPADA_CHANNELS": "ingest",
    "WASPADA_PSEUDONYM_KEY": "ingest, triage, publisher",
    "WASPADA_INGEST_PORT": "ingest, devstack",
    "WASPADA_INGEST_HOST": "ingest",
    "WASPADA_PUBLISH_TIMEOUT_S": "ingest",
    "WASPADA_RETRY_AFTER_S": "ingest",
    "WASPADA_INFLIGHT_TTL_S": "ingest",
    "WASPADA_READY_PROBE_INTERVAL_S": "ingest",
    "WASPADA_INGEST_WORKERS": "ingest",
    "WASPADA_LINGER_MS": "ingest",
    # triage
    "WASPADA_POLICY": "triage",
    "WASPADA_TRIAGE_PORT": "triage, devstack",
    "WASPADA_TRIAGE_HOST": "triage",
    "WASPADA_TRIAGE_DATA_DIR": "triage",
    "WASPADA_TRIAGE_STALL_AFTER_S": "triage",
    "WASPADA_TRIAGE_APP_ID": "triage",
    # notify
    "WASPADA_DIRECTORY": "notify",
    "WASPADA_NOTIFY_PORT": "notify, devstack",
    "WASPADA_NOTIFY_HOST": "notify",
    "WASPADA_SMTP_URL": "notify",
    "WASPADA_SMTP_FROM": "notify",
    "WASPADA_PUBLIC_URL": "notify",
    "WASPADA_WEBHOOK_TIMEOUT_S": "notify",
    "WASPADA_DEFAULT_ACK_WITHIN_S": "notify",
    "WASPADA_ESCALATION_REPEATS": "notify",
    "WASPADA_RETRY_SCHEDULE_S": "notify",
    "WASPADA_DELIVERY_QUICK_ATTEMPTS": "notify",
    "WASPADA_RETRY_AFTER_MAX_S": "notify",
    "WASPADA_RETRY_POLL_S": "notify",
    "WASPADA_RETRY_LEASE_S": "notify",
    "WASPADA_SHUTDOWN_GRACE_S": "notify",
    "WASPADA_DELIVERY_CONCURRENCY": "notify",
    "WASPADA_TIMER_POLL_S": "notify",
    "WASPADA_TIMER_LEASE_S": "notify",
    "WASPADA_SESSION_SECRET": "notify",
    # the publisher client (services.publisher)
    "WASPADA_PUBLISHER_CHANNEL": "publisher",
    # read outside the settings classes: the launcher, the demo, the tests
    "WASPADA_SINK_PORT": "devstack",
    "WASPADA_INGEST_URL": "devstack demo",
    "WASPADA_SINK_URL": "devstack demo",
    "WASPADA_FAULTS_LONG": "tests (make faults)",
    "WASPADA_SOAK_SECONDS": "tests (the short soak)",
}
"""Name → what reads it."""

REMOVED: Final[dict[str, str]] = {
    "WASPADA_DELIVERY_ATTEMPTS": "WASPADA_RETRY_SCHEDULE_S (waits in seconds; attempts are one more)",
    "WASPADA_RETRY_INITIAL_S": "WASPADA_RETRY_SCHEDULE_S (waits in seconds)",
    "WASPADA_RETRY_MAX_S": "WASPADA_RETRY_SCHEDULE_S (waits in seconds)",
}
"""Variables no longer read → what replaced them: set, they would be ignored silently."""
