"""A bare Faust agent on triage's input topics: the yardstick of ``triage_eps`` (``make bench``).

Same broker settings and raw source topics as the triage app, but the agent only counts: what
is left is Faust's own cost of consuming, acking and committing. ``/count`` reports the count.

Run: ``python -m services.triage.bare [--fast] [--uvloop]`` with WASPADA_KAFKA_BOOTSTRAP,
WASPADA_TRIAGE_APP_ID and WASPADA_TRIAGE_PORT set. Without options it is stock Faust (the yardstick
of ``make bench``); ``--fast`` gives it triage's per-message fast path (``faust_patches``) and
``--uvloop`` triage's event loop, for the before/after of ``bench/cpu.py``.
"""

import asyncio
import os
import sys
from typing import Any

import faust
import uvloop
from faust.worker import Worker

from schemas.topics import PARTITIONS, Topics


def build_bare_app(bootstrap: str, app_id: str, port: int, datadir: str, fast: bool = False) -> faust.App:
    """The yardstick app: one agent that counts raw messages from the three input topics."""
    if fast:
        from services.triage.faust_patches import BareFastConsumer, app_with_consumer

        app_class: type[faust.App] = app_with_consumer(BareFastConsumer)
    else:
        app_class = faust.App
    app = app_class(
        app_id,
        broker=[f"kafka://{host}" for host in bootstrap.split(",")],
        store="memory://",
        topic_partitions=PARTITIONS,
        broker_rebalance_timeout=4,
        broker_session_timeout=6,
        broker_heartbeat_interval=1,
        web_port=port,
        web_host="127.0.0.1",
        web_bind="127.0.0.1",
        web_in_thread=False,
        web_tables_enabled=False,
        datadir=datadir,
        processing_guarantee="at_least_once",
    )
    source = app.topic(
        *Topics.INPUTS,
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
        partitions=PARTITIONS,
    )
    seen = {"count": 0}

    @app.agent(source)
    async def count(stream: faust.StreamT[bytes]) -> None:
        async for _ in stream.events():
            seen["count"] += 1

    @app.page("/count")
    async def count_page(web: Any, request: Any) -> Any:
        return web.json(seen)

    return app


def main() -> None:
    if "--uvloop" in sys.argv[1:]:
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    app = build_bare_app(
        os.environ["WASPADA_KAFKA_BOOTSTRAP"],
        os.environ["WASPADA_TRIAGE_APP_ID"],
        int(os.environ["WASPADA_TRIAGE_PORT"]),
        os.environ.get("WASPADA_TRIAGE_DATA_DIR", "/tmp/waspada-bare"),
        fast="--fast" in sys.argv[1:],
    )
    sys.argv[1:] = []  # mode's command line would read the options as its own
    Worker(app, loglevel="WARNING", quiet=True).execute_from_commandline()


if __name__ == "__main__":
    main()
