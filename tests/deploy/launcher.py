"""What ``make run`` launches for each service, read from devstack itself (never restated here)."""

from pathlib import Path
from typing import Any

import pytest

import devstack.stack
from devstack.stack import Stack


class _Recorder:
    """Stands in for devstack.processes.Managed: records the argv instead of spawning."""

    argv: list[str]

    def __init__(self, name: str, argv: list[str], **kwargs: Any) -> None:
        self.argv = list(argv)

    def start(self) -> "_Recorder":
        return self


def launch_argv(name: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[str]:
    """The argv devstack's Stack.start_service builds for service ``name``, with ``python`` for
    the interpreter path (a container's ``python`` is the image's virtualenv)."""
    monkeypatch.setattr(devstack.stack, "Managed", _Recorder)
    stack = Stack(workdir=tmp_path, kafka_bootstrap="127.0.0.1:1", redis_url="redis://127.0.0.1:1/0")
    recorder: Any = stack.start_service(name, wait=False)
    argv: list[str] = recorder.argv
    assert Path(argv[0]).name.startswith("python"), argv
    return ["python", *argv[1:]]
