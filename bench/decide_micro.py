"""Micro-benchmark of ``decide`` and the escalation body, CPU µs per event, no broker (issue 17 item 3: ≤ 60).

The bench mix (``bench.triage_load.bench_events``: 500 villages of Banten, a fifth escalate),
parsed once before the clock; the clock covers what the agent does per event between parsing and
producing: ``decide`` on the village's live state (escalation model and its JSON included).

    python -m bench.decide_micro [N] [ROUNDS]
"""

import gc
import json
import statistics
import sys
import time
from collections import Counter
from datetime import UTC, datetime

from bench.triage_load import bench_events
from schemas.events import InputEvent, event_adapter
from schemas.regions import region_table
from services.common.settings import CONFIG_DIR
from services.triage.decide import decide
from services.triage.incidents import Arrival
from services.triage.policy import load_policy
from services.triage.state import VillageState


def run(events: list[InputEvent], rounds: int) -> dict[str, object]:
    """Per-event CPU µs of ``decide`` over ``events``, ``rounds`` times from fresh states: min/median/max."""
    policy = load_policy(CONFIG_DIR / "policy.yaml")
    region_table()
    now = datetime.now(UTC)
    arrivals = [Arrival(record_time=now, channel="bench", position=f"t:0:{i}") for i in range(len(events))]
    figures: list[float] = []
    outcomes: Counter[str] = Counter()
    for _ in range(rounds):
        states: dict[str, VillageState] = {}
        gc.collect()
        start = time.process_time()
        for event, arrival in zip(events, arrivals, strict=True):
            state = states.get(event.desa_code)
            if state is None:
                state = states[event.desa_code] = VillageState.load(None)
            outcomes[decide(policy, state, event, arrival).outcome] += 1
        figures.append((time.process_time() - start) / len(events) * 1e6)
    return {
        "events": len(events),
        "decide_us_per_event": [round(min(figures), 1), round(statistics.median(figures), 1), round(max(figures), 1)],
        "outcomes": dict(outcomes),
    }


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    events = [event_adapter.validate_json(json.dumps(e)) for e in bench_events(n)]
    print(json.dumps(run(events, rounds)))


if __name__ == "__main__":
    main()
