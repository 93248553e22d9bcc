"""Container health check of the one Waspada image, whichever service the container runs.

A container runs exactly one of ingest, triage or notify, each on its own ``WASPADA_*_PORT``;
this probes ``/healthz`` on each of those ports and succeeds when one answers 2xx. Standard
library only, because the image has no curl.
"""

import os
import sys
import urllib.request

PORTS = {"INGEST": "8000", "TRIAGE": "8001", "NOTIFY": "8002"}


def healthy(port: str) -> bool:
    """True when ``/healthz`` on ``port`` of this container answers 2xx within 3 s."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=3) as response:
            return 200 <= int(response.status) < 300
    except OSError:
        return False


def main() -> int:
    ports = [os.environ.get(f"WASPADA_{name}_PORT", default) for name, default in PORTS.items()]
    return 0 if any(healthy(port) for port in ports) else 1


if __name__ == "__main__":
    sys.exit(main())
