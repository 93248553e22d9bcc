"""The local webhook sink of ``make run``: prints every notification it receives, readably.

It checks each Standard Webhooks signature with the office's secret from the directory, and
keeps what it received in memory so that ``make demo`` and the tests can read it back at
``GET /received``.
"""

import argparse
import base64
import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import uvicorn
import yaml
from fastapi import FastAPI, Request
from rich.console import Console
from rich.panel import Panel

console = Console(highlight=False)


def verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """Standard Webhooks check, written here independently of notify's signing code."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers.get('webhook-id')}.{headers.get('webhook-timestamp')}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    offered = [s.partition(",")[2] for s in headers.get("webhook-signature", "").split()]
    return any(hmac.compare_digest(expected, sig) for sig in offered)


def secrets_of(directory: Path) -> dict[str, str]:
    """Office id → webhook secret, read from the directory file."""
    data = yaml.safe_load(directory.read_text(encoding="utf-8"))
    return {o["id"]: c["secret"] for o in data["offices"] for c in o.get("channels", []) if c["type"] == "webhook"}


def render(office_id: str, payload: dict[str, Any], valid: bool, webhook_id: str) -> Panel:
    """One notification as an officer would want to read it at a glance."""
    reasons = "\n".join(f"  • {r['detail']} ({r['rule']}, {r['weight']:+d})" for r in payload.get("reasons", []))
    types = ", ".join(f"{k}×{v}" for k, v in payload.get("event_types", {}).items())
    text = (
        f"[bold]{payload.get('severity')}[/bold]  skor {payload.get('score')}  revisi {payload.get('revision')}\n"
        f"Desa {payload.get('desa_name')}, Kec. {payload.get('kecamatan')}, {payload.get('kabupaten')}, "
        f"{payload.get('provinsi')} ({payload.get('desa_code')})\n"
        f"Laporan: {payload.get('event_count')} ({types})  {payload.get('first_seen')} → {payload.get('last_seen')}\n"
        f"Alasan:\n{reasons}\n"
        f"webhook-id {webhook_id}  signature {'[green]valid[/green]' if valid else '[red]INVALID[/red]'}"
    )
    return Panel(text, title=f"→ {office_id}", subtitle=payload.get("escalation_id", ""), expand=False)


def create_app(directory: Path, quiet: bool = False) -> FastAPI:
    app = FastAPI(title="Waspada local webhook sink")
    secrets = secrets_of(directory)
    received: list[dict[str, Any]] = []

    @app.post("/hooks/{office_id}")
    async def hook(office_id: str, request: Request) -> dict[str, bool]:
        body = await request.body()
        headers = {k.lower(): v for k, v in request.headers.items()}
        valid = office_id in secrets and verify(secrets[office_id], headers, body)
        payload = json.loads(body)
        received.append(
            {
                "office_id": office_id,
                "headers": headers,
                "body": body.decode(),
                "payload": payload,
                "signature_valid": valid,
            }
        )
        if not quiet:
            console.print(render(office_id, payload, valid, headers.get("webhook-id", "")))
        return {"ok": valid}

    @app.get("/received")
    async def all_received() -> list[dict[str, Any]]:
        return received

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--directory", type=Path, default=Path("config/directory.yaml"))
    args = parser.parse_args()
    uvicorn.run(create_app(args.directory), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
