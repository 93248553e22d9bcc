"""``python -m services.ingest``: the ingest HTTP service (uvloop and httptools when installed).

``WASPADA_INGEST_WORKERS`` processes share the listening socket (uvicorn's supervisor restarts
one that dies). With more than one, the metrics go through prometheus-client's multiprocess mode
(``metrics.py``): its directory is made empty here, before any worker imports prometheus-client.
"""

import os
import shutil
import tempfile
from pathlib import Path

import uvicorn

from services.common.config_files import load_config_or_exit
from services.common.logs import configure_logging
from services.common.settings import load_settings
from services.ingest.adapters.http_server import CorkedHttpToolsProtocol
from services.ingest.core.channels import ChannelRegistry
from services.ingest.settings import IngestSettings

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"  # adapters.metrics.MULTIPROC_ENV, without importing prometheus-client


def _fresh_metrics_dir() -> Path | None:
    """An empty directory for the workers' metric files; None when the operator named one (emptied, kept)."""
    given = os.environ.get(MULTIPROC_ENV)
    if given:
        path = Path(given)
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):  # a previous run's values must not add to this one's
            stale.unlink()
        return None
    made = Path(tempfile.mkdtemp(prefix="waspada-ingest-metrics-"))
    os.environ[MULTIPROC_ENV] = str(made)
    return made


def main() -> None:
    settings = load_settings(IngestSettings)
    configure_logging(settings.log_level, settings.log_json)
    options = {
        "host": settings.ingest_host,
        "port": settings.ingest_port,
        "log_config": None,
        "access_log": False,
        "loop": "auto",
        "http": CorkedHttpToolsProtocol,
        "ws": "none",
        "backlog": 2048,
        "proxy_headers": False,
        "server_header": False,
        "date_header": False,
    }
    if settings.ingest_workers == 1:
        from services.ingest.app import asgi_app

        uvicorn.run(asgi_app(settings), **options)  # type: ignore[arg-type]
        return
    load_config_or_exit(settings.channels, ChannelRegistry)  # a bad file: one line and exit 2, not once per worker
    made = _fresh_metrics_dir()
    try:
        uvicorn.run("services.ingest.app:from_environment", factory=True, workers=settings.ingest_workers, **options)  # type: ignore[arg-type]
    finally:
        if made is not None:
            shutil.rmtree(made, ignore_errors=True)


if __name__ == "__main__":
    main()
