"""``python -m services.triage``: one Faust worker of the triage app."""

from faust.worker import Worker

from services.common.logs import configure_logging
from services.common.settings import load_settings
from services.triage.app import build_app
from services.triage.settings import TriageSettings


def main() -> None:
    settings = load_settings(TriageSettings)
    configure_logging(settings.log_level, settings.log_json)
    app = build_app(settings)
    Worker(app, loglevel=settings.log_level, quiet=True).execute_from_commandline()


if __name__ == "__main__":
    main()
