"""Schema migrations (Alembic, under version control in ``migrations/``): applied at notify's start or by hand.

``python -m services.notify.adapters.postgres upgrade`` applies them (what notify does at start, so nobody
runs SQL by hand); ``current`` prints where a database stands.
"""

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")


def config(url: str) -> Config:
    """Alembic's configuration for ``url``, without an ini file."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str) -> None:
    """Every migration not yet applied to the database at ``url``, in order, in one transaction."""
    command.upgrade(config(url), "head")


def current(url: str) -> None:
    """Print the revision the database at ``url`` stands at."""
    command.current(config(url), verbose=False)
