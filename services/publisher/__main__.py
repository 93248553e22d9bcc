"""``python -m services.publisher FILE.jsonl``."""

import sys

from services.publisher.cli import main

if __name__ == "__main__":
    sys.exit(main())
