"""Triage's Faust app class: Faust's own, with the consumer of ``faust_patches`` (fast path, 20 ms fetch wait, no gaps).

Why each of those is needed, and what upstream would retire it, is in ``faust_patches``; this
module only names what the app uses, so that nothing outside ``faust_patches`` touches Faust's
internals.
"""

from services.triage.faust_patches import FETCH_MAX_WAIT_MS, TriageApp, TriageConsumer

__all__ = ["FETCH_MAX_WAIT_MS", "TriageApp", "TriageConsumer"]
