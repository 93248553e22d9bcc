"""``python -m services.ingest``: the ingest HTTP service (uvloop and httptools when installed)."""

import uvicorn

from services.common.logs import configure_logging
from services.common.settings import load_settings
from services.ingest.app import asgi_app
from services.ingest.settings import IngestSettings


def main() -> None:
    settings = load_settings(IngestSettings)
    configure_logging(settings.log_level, settings.log_json)
    uvicorn.run(
        asgi_app(settings),
        host=settings.ingest_host,
        port=settings.ingest_port,
        log_config=None,
        access_log=False,
        loop="auto",
        http="auto",
        backlog=2048,
        proxy_headers=False,
        server_header=False,
        date_header=False,
    )


if __name__ == "__main__":
    main()
