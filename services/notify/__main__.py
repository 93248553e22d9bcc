"""``python -m services.notify``: escalation delivery and the officer API."""

import uvicorn

from services.common.logs import configure_logging
from services.common.settings import load_settings
from services.notify.app import create_app
from services.notify.settings import NotifySettings


def main() -> None:
    settings = load_settings(NotifySettings)
    configure_logging(settings.log_level, settings.log_json)
    uvicorn.run(
        create_app(settings),
        host=settings.notify_host,
        port=settings.notify_port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=2,  # open HTTP requests; the lifespan's own shutdown is bounded apart
    )


if __name__ == "__main__":
    main()
