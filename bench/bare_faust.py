"""A bare Faust agent: the same source topics and broker settings as triage, and no work at all.

It is the ceiling triage is measured against (``triage_eps`` as a ratio of it): what one
faust-streaming worker on this machine can consume when the handler does nothing but count.
Run as a worker subprocess (``python -m bench.bare_faust``), exactly as triage runs.
"""

import argparse
import tempfile
from typing import Any

import faust
from faust.worker import Worker

from schemas.topics import PARTITIONS, Topics


def build_app(bootstrap: str, port: int, app_id: str) -> faust.App:
    """Triage's Faust settings, one agent that only counts (exposed at ``/count``)."""
    app = faust.App(
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
        datadir=tempfile.mkdtemp(prefix="bench-bare-faust-"),
        processing_guarantee="at_least_once",
        topic_allow_declare=True,
    )
    source = app.topic(*Topics.INPUTS, key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw")
    counted = {"events": 0}

    @app.agent(source)
    async def count(stream: faust.StreamT[bytes]) -> None:
        async for _event in stream.events():
            counted["events"] += 1

    @app.page("/count")
    async def events_seen(web: Any, request: Any) -> Any:
        return web.json(counted)

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--app-id", default="bench-bare-faust")
    args = parser.parse_args()
    app = build_app(args.bootstrap, args.port, args.app_id)
    Worker(app, loglevel="WARNING", quiet=True).execute_from_commandline()


if __name__ == "__main__":
    main()
