"""``python -m services.triage``: one Faust worker of the triage app."""

import asyncio

import uvloop
from faust.worker import Worker

from services.common.logs import configure_logging
from services.common.settings import load_settings
from services.triage.app import build_app
from services.triage.settings import TriageSettings


def main() -> None:
    # uvloop: ~10 µs less CPU per event than the stock loop on Faust's per-message path (bench/cpu.py)
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    settings = load_settings(TriageSettings)
    configure_logging(settings.log_level, settings.log_json)
    app = build_app(settings)
    # override_logging=False: mode's Worker would replace the JSON handler with its own colour
    # formatter, and every structlog line of triage would come out as a Python dict's repr
    worker = Worker(app, loglevel=settings.log_level, quiet=True, override_logging=False)
    worker.spinner = None  # a terminal spinner: its escape codes would land inside the JSON lines
    worker.execute_from_commandline()


if __name__ == "__main__":
    main()
