"""Noticing a stalled agent: messages pending but no progress for too long (FIELD-NOTES fs#175, #640).

The worker process and its web server may be alive while the agent is stuck (a hung await, a
crashed agent task, a recovery that never ends); ``/healthz`` turns 503 so that the orchestrator
restarts it.
"""

import time
from collections.abc import Callable


class Watchdog:
    """Tracks progress and pending work; ``healthy`` is False once pending work waits too long."""

    def __init__(self, stall_after_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.stall_after_s = stall_after_s
        self.clock = clock
        self.last_progress = clock()
        self.pending_since: float | None = None
        self.lag = 0

    def progressed(self) -> None:
        """The agent finished a message."""
        self.last_progress = self.clock()

    def observe_lag(self, lag: int) -> None:
        """Messages waiting on the input topics now (0: nothing to do)."""
        if lag > 0 and self.pending_since is None:
            self.pending_since = self.clock()
        elif lag <= 0:
            self.pending_since = None
        self.lag = max(lag, 0)

    def stalled_for(self) -> float:
        """Seconds pending work has waited without any progress (0 when idle or moving)."""
        if self.pending_since is None:
            return 0.0
        return max(0.0, self.clock() - max(self.last_progress, self.pending_since))

    def healthy(self) -> bool:
        return self.stalled_for() < self.stall_after_s
