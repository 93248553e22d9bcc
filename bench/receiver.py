"""A recording webhook receiver: every arrival is appended to a JSON-lines file with its arrival time.

Unlike ``devstack.sink`` it keeps its record on disk, so a drill can stop it (a receiver that is
down), start it again on the same port, and still count every delivery; and it is lean enough
not to be the bottleneck of ``make bench``. ``--delay-ms`` makes every answer slow, so that a
restart of notify surely lands in the middle of a delivery.
"""

import argparse
import asyncio
import json
import time
from pathlib import Path
from typing import Any, TextIO

from aiohttp import web

CLIENT_GONE = 499
"""Recorded (never sent) when the sender closed the connection before the answer: nginx's "client closed request"."""


def record_of(office_id: str, headers: Any, payload: Any, status: int) -> dict[str, Any]:
    """One line of the record: when, to whom, which webhook-id, about which village and escalation."""
    body = payload if isinstance(payload, dict) else {}
    return {
        "t": time.time(),
        "office_id": office_id,
        "webhook_id": headers.get("webhook-id", ""),
        "escalation_id": body.get("escalation_id"),
        "desa_code": body.get("desa_code"),
        "severity": body.get("severity"),
        "created_at": body.get("created_at"),
        "status": status,
    }


def make_app(out: TextIO, delay_s: float) -> web.Application:
    async def hook(request: web.Request) -> web.Response:
        raw = await request.read()
        try:
            payload = json.loads(raw)
        except ValueError:
            payload = None
        if delay_s:
            await asyncio.sleep(delay_s)
        status = 200 if payload is not None else 400
        if request.transport is None or request.transport.is_closing():
            status = CLIENT_GONE  # the sender gave up before our answer: not a delivery it could know of
        out.write(json.dumps(record_of(request.match_info["office_id"], request.headers, payload, status)) + "\n")
        out.flush()
        return web.json_response({"ok": status == 200}, status=status)

    async def ready(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application(client_max_size=4 * 1024 * 1024)
    app.router.add_post("/hooks/{office_id}", hook)
    app.router.add_get("/received", ready)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--delay-ms", type=float, default=0.0)
    args = parser.parse_args()
    with args.out.open("a", encoding="utf-8") as out:
        web.run_app(make_app(out, args.delay_ms / 1000), host="127.0.0.1", port=args.port, print=None)


def read_record(path: Path) -> list[dict[str, Any]]:
    """Every complete line of a receiver's record (a line being written is skipped)."""
    if not path.exists():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rows.append(json.loads(line))
        except ValueError:
            continue
    return rows


if __name__ == "__main__":
    main()
