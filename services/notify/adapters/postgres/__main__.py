"""``python -m services.notify.adapters.postgres upgrade|current``: the schema of ``WASPADA_DATABASE_URL``.

Notify applies the migrations itself at start; this is for an operator who wants them applied
(or checked) before a deployment rolls out.
"""

import sys

from services.notify.adapters.postgres import migrate

USAGE = "usage: python -m services.notify.adapters.postgres upgrade|current  (the database is WASPADA_DATABASE_URL)"


def main(argv: list[str]) -> int:
    import os

    url = os.environ.get("WASPADA_DATABASE_URL")
    if len(argv) != 1 or argv[0] not in ("upgrade", "current"):
        print(USAGE, file=sys.stderr)
        return 2
    if not url:
        print("waspada: configuration error: WASPADA_DATABASE_URL is not set", file=sys.stderr)
        return 2
    (migrate.upgrade if argv[0] == "upgrade" else migrate.current)(url)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
