"""Every ``WASPADA_*`` variable any Waspada component reads, and the check that refuses the rest.

All services, the devstack launcher, the bench and the tests run with one shared environment
(``make run`` and the test stacks pass the same one to every process), so a variable is unknown only
when no component at all reads it: notify accepts ``WASPADA_CHANNELS`` because ingest reads it, and
refuses ``WASPADA_SMPT_URL`` because nobody does. The names are listed here, in ``services/common``,
so that no service has to import another one's settings to know them;
``tests/common/test_variables.py`` fails when this list and the settings classes (or the
``os.environ`` reads in the tree) drift apart, and ``services/config_docs.py`` turns it and the
settings classes into ``docs/configuration.md``.
"""

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

PREFIX = "WASPADA_"


class Reader(StrEnum):
    """A component that reads ``WASPADA_*`` variables."""

    INGEST = "ingest"
    TRIAGE = "triage"
    NOTIFY = "notify"
    PUBLISHER = "publisher"
    DEVSTACK = "devstack"
    BENCH = "bench"
    TESTS = "tests"
    HEALTHCHECK = "healthcheck"
    """``deploy/docker/healthcheck.py``: the container's health probe."""


SERVICES = (Reader.INGEST, Reader.TRIAGE, Reader.NOTIFY, Reader.PUBLISHER)
"""The processes with a settings class (``load_settings`` checks the environment for them)."""

_SERVICES = frozenset(SERVICES)


@dataclass(frozen=True)
class Plain:
    """A variable read with ``os.environ`` outside every settings class, documented here instead."""

    readers: frozenset[Reader]
    kind: str
    default: str | None
    """None: unset (the reader's own fallback)."""
    description: str


SETTINGS: Mapping[str, frozenset[Reader]] = {
    # CommonSettings: every service; devstack reads the first two to reuse a running Kafka and Valkey
    "WASPADA_KAFKA_BOOTSTRAP": _SERVICES | {Reader.DEVSTACK},
    "WASPADA_REDIS_URL": _SERVICES | {Reader.DEVSTACK},
    "WASPADA_KAFKA_IDEMPOTENT_PRODUCER": _SERVICES,
    "WASPADA_KAFKA_REPLICATION_FACTOR": _SERVICES,  # the devstack sets it on Apache Kafka, it does not read it
    "WASPADA_LOG_LEVEL": _SERVICES,
    "WASPADA_LOG_JSON": _SERVICES,
    # pseudonyms: the same key wherever an identifier is pseudonymised
    "WASPADA_PSEUDONYM_KEY": frozenset({Reader.INGEST, Reader.TRIAGE, Reader.PUBLISHER, Reader.DEVSTACK}),
    # ingest
    "WASPADA_CHANNELS": frozenset({Reader.INGEST}),
    "WASPADA_INGEST_PORT": frozenset({Reader.INGEST, Reader.DEVSTACK, Reader.HEALTHCHECK}),
    "WASPADA_INGEST_HOST": frozenset({Reader.INGEST}),
    "WASPADA_PUBLISH_TIMEOUT_S": frozenset({Reader.INGEST}),
    "WASPADA_RETRY_AFTER_S": frozenset({Reader.INGEST}),
    "WASPADA_INFLIGHT_TTL_S": frozenset({Reader.INGEST}),
    "WASPADA_READY_PROBE_INTERVAL_S": frozenset({Reader.INGEST}),
    "WASPADA_INGEST_WORKERS": frozenset({Reader.INGEST, Reader.BENCH}),
    "WASPADA_LINGER_MS": frozenset({Reader.INGEST}),
    # triage
    "WASPADA_POLICY": frozenset({Reader.TRIAGE}),
    "WASPADA_TRIAGE_PORT": frozenset({Reader.TRIAGE, Reader.DEVSTACK, Reader.HEALTHCHECK}),
    "WASPADA_TRIAGE_HOST": frozenset({Reader.TRIAGE}),
    "WASPADA_TRIAGE_DATA_DIR": frozenset({Reader.TRIAGE}),
    "WASPADA_TRIAGE_STALL_AFTER_S": frozenset({Reader.TRIAGE}),
    "WASPADA_TRIAGE_APP_ID": frozenset({Reader.TRIAGE}),
    # notify
    "WASPADA_DIRECTORY": frozenset({Reader.NOTIFY}),
    "WASPADA_NOTIFY_PORT": frozenset({Reader.NOTIFY, Reader.DEVSTACK, Reader.HEALTHCHECK}),
    "WASPADA_NOTIFY_HOST": frozenset({Reader.NOTIFY}),
    "WASPADA_SMTP_URL": frozenset({Reader.NOTIFY}),
    "WASPADA_DATABASE_URL": frozenset({Reader.NOTIFY}),
    "WASPADA_SMTP_FROM": frozenset({Reader.NOTIFY}),
    "WASPADA_PUBLIC_URL": frozenset({Reader.NOTIFY}),
    "WASPADA_WEBHOOK_TIMEOUT_S": frozenset({Reader.NOTIFY}),
    "WASPADA_DEFAULT_ACK_WITHIN_S": frozenset({Reader.NOTIFY}),
    "WASPADA_ESCALATION_REPEATS": frozenset({Reader.NOTIFY}),
    "WASPADA_RETRY_SCHEDULE_S": frozenset({Reader.NOTIFY}),
    "WASPADA_DELIVERY_QUICK_ATTEMPTS": frozenset({Reader.NOTIFY}),
    "WASPADA_RETRY_AFTER_MAX_S": frozenset({Reader.NOTIFY}),
    "WASPADA_RETRY_POLL_S": frozenset({Reader.NOTIFY}),
    "WASPADA_RETRY_LEASE_S": frozenset({Reader.NOTIFY}),
    "WASPADA_SHUTDOWN_GRACE_S": frozenset({Reader.NOTIFY}),
    "WASPADA_DELIVERY_CONCURRENCY": frozenset({Reader.NOTIFY}),
    "WASPADA_TIMER_POLL_S": frozenset({Reader.NOTIFY}),
    "WASPADA_TIMER_LEASE_S": frozenset({Reader.NOTIFY}),
    # publisher
    "WASPADA_PUBLISHER_CHANNEL": frozenset({Reader.PUBLISHER}),
}
"""The fields of the settings classes, by environment name, with every component that reads them."""

PLAIN: Mapping[str, Plain] = {
    "WASPADA_INGEST_URL": Plain(
        frozenset({Reader.DEVSTACK}), "URL", "http://127.0.0.1:8000", "Ingest that `make demo` posts its scenario to."
    ),
    "WASPADA_SINK_URL": Plain(
        frozenset({Reader.DEVSTACK}),
        "URL",
        "http://127.0.0.1:8099",
        "The devstack's webhook receiver that `make demo` reads the deliveries back from.",
    ),
    "WASPADA_FAULTS_LONG": Plain(
        frozenset({Reader.TESTS}),
        "`1` or unset",
        None,
        "`make faults` sets it: the fault drills' long variants (a 30 s broker stall, a receiver down for a minute).",
    ),
    "WASPADA_DRILL_LOG": Plain(
        frozenset({Reader.TESTS}),
        "a file path, or unset",
        None,
        "`make drills` sets it: every fault drill appends a JSON line of its books (passed, lost, double-delivered, "
        "the time until the pipeline flowed again) to this file.",
    ),
    "WASPADA_SOAK_SECONDS": Plain(
        frozenset({Reader.TESTS}), "float", "45", "How long `tests/faults/test_soak.py` keeps the load on."
    ),
    "WASPADA_SINK_PORT": Plain(
        frozenset({Reader.DEVSTACK}),
        "int",
        "8099",
        "Port of the devstack's webhook receiver in `make run`, as `WASPADA_<SERVICE>_PORT` is for the services.",
    ),
}
"""Variables read outside the settings classes: dev launcher, bench and tests."""

AWAITED: frozenset[str] = frozenset()
"""Names registered before the branch that reads them lands (none now)."""

REMOVED: Mapping[str, str] = {
    "WASPADA_DELIVERY_ATTEMPTS": "no longer read: set WASPADA_RETRY_SCHEDULE_S (waits in seconds)",
    "WASPADA_RETRY_INITIAL_S": "no longer read: set WASPADA_RETRY_SCHEDULE_S (waits in seconds)",
    "WASPADA_RETRY_MAX_S": "no longer read: set WASPADA_RETRY_SCHEDULE_S (waits in seconds)",
    "WASPADA_SESSION_SECRET": "no longer read: console sessions are random ids kept in Valkey, nothing signs them",
}
"""Variables that were read once: set, they stop every service with what replaced them, rather than
being ignored while the operator believes they apply."""

KNOWN = frozenset(SETTINGS) | frozenset(PLAIN)


def readers(name: str) -> frozenset[Reader]:
    """The components that read ``name`` (empty when none does)."""
    if name in SETTINGS:
        return SETTINGS[name]
    plain = PLAIN.get(name)
    return plain.readers if plain else frozenset()


def _problem(name: str) -> str | None:
    """What is wrong with one ``WASPADA_*`` name, or None when some component reads it."""
    upper = name.upper()  # pydantic-settings matches names case-insensitively: so does this check
    if upper in KNOWN:
        return None
    if upper in REMOVED:
        return f"{name} is {REMOVED[upper]}"
    return f"{name} is not a Waspada setting{_suggestion(upper)}"


def _suggestion(upper: str) -> str:
    """`` (did you mean …?)`` for the nearest known name; the shared prefix is left out of the
    comparison, or every name would look alike."""
    tails = [known.removeprefix(PREFIX) for known in sorted(KNOWN)]
    close = difflib.get_close_matches(upper.removeprefix(PREFIX), tails, n=1)
    return f" (did you mean {PREFIX}{close[0]}?)" if close else " (docs/configuration.md lists them)"


def environment_problems(environ: Mapping[str, str]) -> list[str]:
    """One message per ``WASPADA_*`` name in ``environ`` that no component reads, sorted."""
    names = sorted(name for name in environ if name.upper().startswith(PREFIX))
    return [problem for problem in map(_problem, names) if problem is not None]
