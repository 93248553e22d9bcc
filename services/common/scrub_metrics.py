"""``waspada_scrubbed_total{rule,service}``: identifiers replaced in free text, per scrub rule.

Declared here, once, and not in each service's ``metrics.py``: ingest and triage both count it, and
prometheus-client refuses a second registration of one name in a process (the test suite imports
both services). Each service takes its own ``ScrubTally`` in its ``metrics.py``; labels are a rule
name and a service name, never anything that was scrubbed.
"""

from collections.abc import Mapping

from prometheus_client import Counter

from services.common.scrub import RULES, Rule

SCRUBBED = Counter(
    "waspada_scrubbed_total",
    "Personal identifiers (phone, nik, passport, email) found in free text and replaced by their pseudonyms",
    ["rule", "service"],
)


class ScrubTally:
    """The counter's children for one service, resolved once (``labels()`` costs a lock per call).

    Every rule starts at 0 in the service that holds it, so a rate over the counter has a beginning.
    """

    def __init__(self, service: str) -> None:
        self._children = {rule: SCRUBBED.labels(rule=rule, service=service) for rule in RULES}

    def add(self, found: Mapping[Rule, int]) -> None:
        """Count what one scrub found (rule → how many)."""
        for rule, n in found.items():
            self._children[rule].inc(n)
