"""The stall watchdog behind /healthz: pending work without progress turns it unhealthy."""

from services.triage.health import Watchdog


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_idle_worker_is_healthy_however_long_it_waits() -> None:
    clock = Clock()
    dog = Watchdog(30, clock)
    clock.now += 3600
    dog.observe_lag(0)
    assert dog.healthy()


def test_pending_messages_without_progress_turn_it_unhealthy() -> None:
    clock = Clock()
    dog = Watchdog(30, clock)
    clock.now += 3600  # long idle, then work arrives: the clock starts when it arrives
    dog.observe_lag(5)
    clock.now += 29
    assert dog.healthy()
    clock.now += 2
    dog.observe_lag(5)
    assert not dog.healthy() and dog.stalled_for() >= 30


def test_progress_keeps_it_healthy_and_recovers_it() -> None:
    clock = Clock()
    dog = Watchdog(30, clock)
    dog.observe_lag(100)
    for _ in range(10):
        clock.now += 20
        dog.progressed()
        assert dog.healthy()
    clock.now += 40
    assert not dog.healthy()
    dog.progressed()
    assert dog.healthy()
