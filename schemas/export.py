"""Writes the JSON Schema of every model to ``schemas/json/`` (``make schemas``).

``tests/schemas/test_json_export.py`` fails when the checked-in files drift from the models.
"""

import json
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from schemas.deadletter import DeadLetter
from schemas.escalation import Escalation
from schemas.events import DepartureAnomaly, RecruiterSighting, Tip, event_adapter
from schemas.outcomes import Resolution

JSON_DIR = Path(__file__).resolve().parent / "json"
MODELS: dict[str, type[BaseModel]] = {
    "tip": Tip,
    "departure_anomaly": DepartureAnomaly,
    "recruiter_sighting": RecruiterSighting,
    "escalation": Escalation,
    "resolution": Resolution,
    "deadletter": DeadLetter,
}


def rendered() -> dict[str, str]:
    """File name → JSON text, exactly as it should be on disk."""
    schemas: dict[str, dict[str, Any]] = {name: model.model_json_schema() for name, model in MODELS.items()}
    schemas["event"] = event_adapter.json_schema()
    return {f"{name}.schema.json": json.dumps(body, indent=2, sort_keys=True) + "\n" for name, body in schemas.items()}


def main() -> None:
    JSON_DIR.mkdir(exist_ok=True)
    for name, text in rendered().items():
        (JSON_DIR / name).write_text(text, encoding="utf-8")
        print(f"wrote schemas/json/{name}", file=sys.stderr)


if __name__ == "__main__":
    main()
