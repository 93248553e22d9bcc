"""Logs carry an exception's type and traceback, and the level reaches Faust, mode and the Kafka clients."""

import json
import subprocess
import sys
from typing import Any

from services.common.settings import REPO_ROOT

SCRIPT = """
import logging
from services.common.logs import configure_logging, get_logger
configure_logging({level!r}, as_json=True)
log = get_logger("waspada.test")
try:
    reporter_phone = "+6281234567890"
    {{}}["missing"]
except KeyError:
    log.exception("step.failed", village="36.04.13.2007")
logging.getLogger("aiokafka.consumer.group_coordinator").info("joined group")
logging.getLogger("faust.tables").debug("recovery detail")
logging.getLogger("uvicorn.access").info("GET /healthz 200")
"""


def _lines(level: str) -> list[dict[str, Any]]:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(level=level)], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    return [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]


def test_an_exception_is_logged_with_its_type_message_and_frames() -> None:
    failed = next(line for line in _lines("INFO") if line["event"] == "step.failed")
    (exc,) = failed["exception"]
    assert exc["exc_type"] == "KeyError" and exc["exc_value"] == "'missing'"
    assert exc["frames"] and failed["village"] == "36.04.13.2007"
    assert "exc_info" not in failed
    assert "6281234567890" not in json.dumps(failed), "a frame's local variables were logged"


def test_the_level_applies_to_the_libraries_and_the_access_log_only_at_debug() -> None:
    info = {line["event"] for line in _lines("INFO")}
    assert "joined group" in info and "recovery detail" not in info and "GET /healthz 200" not in info
    debug = {line["event"] for line in _lines("DEBUG")}
    assert {"joined group", "recovery detail", "GET /healthz 200"} <= debug
