"""Fetch the pinned Apache Kafka broker (``pom.xml``) from Maven Central into a cache, once.

``make test`` runs ``python -m devstack.kafka`` before pytest, so that no test pays for the
download inside its timeout; the cluster code calls ``libs()`` again and finds the cache ready.
The jars go to ``$XDG_CACHE_HOME/waspada/`` (``~/.cache`` by default), outside the checkout, in
a directory keyed by the pom's content: editing the pom fetches afresh, and a fetch that stopped
halfway never counts (it lands in a staging directory renamed into place after its marker).
"""

import functools
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

POM = Path(__file__).with_name("pom.xml")
DONE = ".complete"
"""Written last into a finished fetch: a cache directory without it is not used."""

COPY_DEPENDENCIES = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies"
"""The goal by its full name: a prefix (``dependency:``) fails as "no plugin found" when Central is out of reach."""

PACKAGES = {"java": "default-jre-headless", "mvn": "maven"}
"""Debian packages of the tools (``default-jre-headless`` is Java 17 on bookworm; Kafka 4 needs 17+)."""

_NETWORK = re.compile(
    r"Could not transfer|Unknown ?host|UnknownHost|Connection refused|timed out|Network is unreachable|"
    r"No route to host|Could not resolve|offline mode",
    re.IGNORECASE,
)


class KafkaUnavailable(RuntimeError):
    """Why the broker cannot be had, in one line: no Java, no Maven, no Maven Central."""


def version() -> str:
    """The pinned Kafka version (``<kafka.version>`` of the pom)."""
    match = re.search(r"<kafka\.version>([^<]+)</kafka\.version>", POM.read_text(encoding="utf-8"))
    if match is None:
        raise KafkaUnavailable(f"{POM} pins no <kafka.version>")
    return match.group(1)


def cache_dir() -> Path:
    """Where this pom's jars live: keyed by the pom's content, so that any change fetches afresh."""
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    digest = hashlib.sha256(POM.read_bytes()).hexdigest()[:12]
    return root / "waspada" / f"kafka-{version()}-{digest}"


def cached() -> bool:
    return (cache_dir() / "libs" / DONE).is_file()


def libs() -> Path:
    """The directory of the broker's jars (its classpath is ``<dir>/*``), fetched when missing."""
    require_tools(maven=not cached())
    if not cached():
        fetch(cache_dir() / "libs")
    return cache_dir() / "libs"


def require_tools(*, maven: bool) -> None:
    """Java 17+ (and Maven when a fetch is due): installed with apt-get as root, else one line and a stop."""
    missing = [pkg for tool, pkg in PACKAGES.items() if (tool == "java" or maven) and shutil.which(tool) is None]
    if missing:
        install(missing)
    major = java_major()
    if major < 17:
        raise KafkaUnavailable(
            f"Apache Kafka {version()} needs Java 17 or newer, `java` is Java {major} "
            f"(apt-get install {PACKAGES['java']})"
        )


def install(packages: Sequence[str]) -> None:
    """apt-get install ``packages`` when we are root (as CI is); otherwise say which ones and stop."""
    names = " ".join(packages)
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise KafkaUnavailable(f"Apache Kafka needs the Debian packages: {names} (apt-get install {names})")
    print(f"installing Debian packages: {names}", file=sys.stderr)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for argv in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", *packages]):
        if subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, check=False).returncode != 0:
            raise KafkaUnavailable(f"`{' '.join(argv)}` failed; install {names} by hand")


@functools.cache
def java_version() -> str:
    """What ``java -version`` says (the JVM build a class-data archive belongs to)."""
    return subprocess.run(["java", "-version"], capture_output=True, text=True, check=False).stderr


def java_major() -> int:
    """The major version of ``java`` on the PATH (``1.8`` reads as 8)."""
    out = java_version()
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out)
    if match is None:
        raise KafkaUnavailable(f"cannot tell the version of `java` from: {out.strip()[:200]!r}")
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


def fetch(target: Path, maven_args: Sequence[str] = ()) -> None:
    """Copy the pom's runtime dependencies into ``target`` through a staging directory and a marker."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    staging.chmod(0o755)
    try:
        copy_dependencies(staging, maven_args)
        (staging / DONE).write_text(f"Apache Kafka {version()}, the runtime dependencies of {POM}\n")
        if not (target / DONE).is_file():  # else another process finished first: keep its copy
            shutil.rmtree(target, ignore_errors=True)
            staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def copy_dependencies(dest: Path, maven_args: Sequence[str] = ()) -> None:
    """``mvn dependency:copy-dependencies`` of the pom into ``dest``; an unreachable Maven Central is one line."""
    argv = [
        "mvn",
        "-q",
        "-B",
        "-Dstyle.color=never",
        "-f",
        str(POM),
        *maven_args,
        COPY_DEPENDENCIES,
        "-DincludeScope=runtime",
        f"-DoutputDirectory={dest}",
    ]
    done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=1800)
    if done.returncode != 0:
        raise KafkaUnavailable(_maven_error(done.stdout + done.stderr))
    if not (dest / f"kafka_2.13-{version()}.jar").is_file():
        raise KafkaUnavailable(f"mvn finished but {dest} holds no kafka_2.13-{version()}.jar")


def _maven_error(output: str) -> str:
    output = re.sub(r"\x1b\[[0-9;]*m", "", output)  # Maven 3.8 colours even in batch mode
    errors = [line.removeprefix("[ERROR] ").strip() for line in output.splitlines() if line.startswith("[ERROR]")]
    first = next((e for e in errors if e), output.strip().splitlines()[-1] if output.strip() else "no output")
    if _NETWORK.search(output):
        return (
            f"cannot fetch Apache Kafka {version()}: Maven Central (https://repo.maven.apache.org) "
            f"is not reachable from here (a proxy goes in ~/.m2/settings.xml); mvn said: {first[:300]}"
        )
    return f"mvn could not fetch Apache Kafka {version()}: {first[:300]}"
