"""``make demo``: the seed stories, posted to a running ingest; prints the escalations they caused.

- Desa Lontar, Tirtayasa, Kab. Serang: a recruiter going door to door, then two departures of
  young villagers with the same sponsor.
- Kelurahan Langkai, Pahandut, Kota Palangka Raya: an "admin" job offer in Cambodia.
- Kab. Bogor: a 16-year-old leaving on a tourist visa with a sponsor.
"""

import json
import os
import sys
import time
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from rich.console import Console
from rich.table import Table

from devstack.demo_tokens import CHANNEL_TOKENS

console = Console()


def _at(hours_ago: float) -> str:
    return (datetime.now(UTC) - timedelta(hours=hours_ago)).isoformat()


def scenario() -> list[tuple[str, str, dict[str, Any]]]:
    """(path, channel, body) for each event of the demo, oldest first."""
    village, checkpoint = "demo-village", "demo-checkpoint"
    lontar, langkai, bogor = "36.04.13.2007", "62.71.01.1003", "32.01.01.1002"
    return [
        (
            "/v1/recruiter-sightings",
            village,
            {
                "event_id": str(uuid.uuid4()),
                "occurred_at": _at(72),
                "desa_code": lontar,
                "recruiter": "+62 812-0000-1111",
                "activity": ["door_to_door", "fee_collected"],
                "persons_approached": 6,
                "promised_destination": "MY",
                "promised_job": "pekerja kebun sawit",
                "licensed_agency": False,
                "description": "Seorang sponsor datang ke rumah-rumah menawarkan kerja di kebun sawit Malaysia.",
            },
        ),
        (
            "/v1/departure-anomalies",
            checkpoint,
            {
                "event_id": str(uuid.uuid4()),
                "occurred_at": _at(30),
                "desa_code": lontar,
                "checkpoint": "TPI-SOETTA",
                "traveller": "C1234567",
                "age": 19,
                "sex": "F",
                "declared_purpose": "tourism",
                "destination_country": "MY",
                "indicators": ["one_way_ticket", "sponsor_accompanied", "no_epmi"],
                "action": "delayed",
            },
        ),
        (
            "/v1/departure-anomalies",
            checkpoint,
            {
                "event_id": str(uuid.uuid4()),
                "occurred_at": _at(29),
                "desa_code": lontar,
                "checkpoint": "TPI-SOETTA",
                "traveller": "C7654321",
                "age": 20,
                "sex": "F",
                "declared_purpose": "tourism",
                "destination_country": "MY",
                "indicators": ["one_way_ticket", "group_same_sponsor", "no_epmi"],
                "action": "delayed",
            },
        ),
        (
            "/v1/tips",
            village,
            {
                "event_id": str(uuid.uuid4()),
                "occurred_at": _at(5),
                "desa_code": langkai,
                "category": "online_scam_job",
                "persons_involved": 2,
                "minors_involved": False,
                "destination_country": "KH",
                "description": (
                    "Lowongan admin di Kamboja lewat Telegram, gaji Rp12 juta, cukup paspor dan bisa mengetik."
                ),
            },
        ),
        (
            "/v1/departure-anomalies",
            checkpoint,
            {
                "event_id": str(uuid.uuid4()),
                "occurred_at": _at(1),
                "desa_code": bogor,
                "checkpoint": "TPI-SOETTA",
                "traveller": "3201010101080001",
                "age": 16,
                "sex": "F",
                "declared_purpose": "tourism",
                "destination_country": "SA",
                "indicators": ["sponsor_accompanied", "ticket_paid_by_third_party"],
                "action": "delayed",
            },
        ),
    ]


def post(base: str, path: str, channel: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        base + path,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {CHANNEL_TOKENS[channel]}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status), json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def received(sink: str) -> list[dict[str, Any]]:
    with urllib.request.urlopen(sink + "/received", timeout=5) as response:
        return list(json.loads(response.read()))


def main() -> None:
    ingest = os.environ.get("WASPADA_INGEST_URL", "http://127.0.0.1:8000")
    sink = os.environ.get("WASPADA_SINK_URL", "http://127.0.0.1:8099")
    try:
        before = len(received(sink))
    except OSError:
        console.print(f"[red]No running stack: start it with `make run` first (sink {sink} not answering).[/red]")
        sys.exit(1)
    for path, channel, body in scenario():
        status, answer = post(ingest, path, channel, body)
        console.print(f"POST {path:<26} {body['desa_code']}  → {status} {answer.get('status', answer)}")
    console.print("waiting for escalations to be delivered …")
    deadline, seen = time.monotonic() + 20, []
    while time.monotonic() < deadline:
        seen = received(sink)[before:]
        if len({n["payload"]["desa_code"] for n in seen}) >= 3:
            time.sleep(2)
            seen = received(sink)[before:]
            break
        time.sleep(0.5)
    if not seen:
        console.print(
            "[yellow]No new escalation: these villages already have open incidents at this severity, so the\n"
            "reports were merged into them (an incident publishes a revision only when its severity rises).\n"
            "Restart `make run` for a fresh stack, or see the incidents in the console.[/yellow]"
        )
        return
    table = Table(title="Escalations delivered by this demo")
    for column in ("office", "severity", "score", "rev", "village", "events", "signature"):
        table.add_column(column)
    for n in seen:
        p = n["payload"]
        table.add_row(
            n["office_id"],
            p["severity"],
            str(p["score"]),
            str(p["revision"]),
            f"{p['desa_name']} ({p['kecamatan']})",
            str(p["event_count"]),
            "valid" if n["signature_valid"] else "INVALID",
        )
    console.print(table)


if __name__ == "__main__":
    main()
