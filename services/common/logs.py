"""Structured logging (structlog) for every service: one JSON object per line.

Log events name things by id and pseudonym only; no field of an event body is ever logged.
"""

import logging
import sys

import structlog
import structlog.tracebacks

_TRACEBACKS = structlog.processors.ExceptionRenderer(
    structlog.tracebacks.ExceptionDictTransformer(show_locals=False, use_rich=False)
)
"""structlog's ``dict_tracebacks`` without the local variables of each frame it shows by default: locals hold
event bodies, names and phone numbers before they are pseudonymised."""


def configure_logging(level: str = "INFO", as_json: bool = True) -> None:
    """Route stdlib and structlog records through one renderer on stderr."""
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if as_json else structlog.dev.ConsoleRenderer(colors=False)
    )
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                # an exception's type, message and frames as data (``log.exception`` and stdlib records alike)
                _TRACEBACKS if as_json else structlog.processors.format_exc_info,
                renderer,
            ],
            foreign_pre_chain=shared,
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Faust, mode and the Kafka clients follow the level like our own code (their INFO lines are group joins,
    # rebalances and table recoveries: what an operator reads after an incident); uvicorn's access log is one
    # line per request on ingest's hot path, so it speaks at DEBUG only
    for library in ("aiokafka", "kafka", "faust", "mode"):
        logging.getLogger(library).setLevel(level)
    logging.getLogger("uvicorn.access").setLevel(logging.DEBUG if level == "DEBUG" else logging.WARNING)


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    """A structlog logger bound to ``name``."""
    logger: structlog.stdlib.BoundLogger = structlog.stdlib.get_logger(name)
    return logger
