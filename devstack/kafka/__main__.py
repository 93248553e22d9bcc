"""``python -m devstack.kafka`` (``make kafka-deps``): everything a Kafka start needs, made once and cached.

The jars (from Maven Central), the formatted storage of one and of three nodes, and the
class-data archive; silent when all of it is cached, one line when something was made, and one
line and exit status 1 when it cannot be (no Java or Maven and not root, no Maven Central).
"""

import sys
import time

from devstack.kafka.cluster import build_class_data_archive, formatted_template
from devstack.kafka.fetch import KafkaUnavailable, cache_dir, cached, libs, version


def prepare() -> list[str]:
    """Make what is missing; returns what was made, with how long it took."""
    made: list[str] = []
    start = time.monotonic()
    if not cached():
        libs()
        made.append(f"fetched in {time.monotonic() - start:.0f} s")
    classpath = f"{libs()}/*"
    for size in (1, 3):
        formatted_template(size, classpath)
    start = time.monotonic()
    if build_class_data_archive():
        made.append(f"class-data archive built in {time.monotonic() - start:.0f} s")
    return made


def main() -> None:
    try:
        made = prepare()
    except KafkaUnavailable as exc:
        print(f"waspada: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    if made:
        print(f"Apache Kafka {version()} in {cache_dir()}: {', '.join(made)}")


if __name__ == "__main__":
    main()
