"""``python -m devstack run [--broker embedded|kafka]|demo``: the stack in the foreground, or the demo scenario."""

import argparse
import os
import signal
import sys
import time
from types import FrameType

from rich.console import Console

from devstack import demo
from devstack.demo_tokens import CHANNEL_TOKENS
from devstack.kafka.fetch import version as kafka_version
from devstack.stack import Broker, Stack
from services.common.settings import REPO_ROOT

console = Console()
SERVICES = ("sink", "notify", "triage", "ingest")
DEFAULT_PORTS = {
    "broker": 9092,
    "valkey": 6379,
    "postgres": 5432,
    "ingest": 8000,
    "triage": 8001,
    "notify": 8002,
    "sink": 8099,
}


class Stop(BaseException):
    """Raised by the signal handler to leave the foreground loop (a BaseException, as KeyboardInterrupt is,
    so that no ``except Exception`` on the way, such as a readiness poll's, swallows it)."""


def _stop(signum: int, frame: FrameType | None) -> None:
    raise Stop


def curl_line(ingest_url: str) -> str:
    body = (
        '{"event_id":"\'$(cat /proc/sys/kernel/random/uuid)\'","occurred_at":"\'$(date -u +%FT%TZ)\'",'
        '"desa_code":"36.04.13.2007","category":"online_scam_job","persons_involved":3,'
        '"minors_involved":true,"destination_country":"KH",'
        '"description":"Tawaran kerja admin di Kamboja untuk remaja desa"}'
    )
    return (
        f"curl -s -X POST {ingest_url}/v1/tips -H 'Authorization: Bearer {CHANNEL_TOKENS['demo-village']}' "
        f"-H 'Content-Type: application/json' -d '{body}'"
    )


def ports_in_use() -> list[str]:
    from devstack.processes import port_open

    names = [n for n in ("ingest", "triage", "notify", "sink") if port_open(_port(n))]
    return [f"{n} port {_port(n)}" for n in names]


def _port(name: str) -> int:
    return int(os.environ.get(f"WASPADA_{name.upper()}_PORT", DEFAULT_PORTS[name]))


def run(broker: Broker = "embedded") -> None:
    """The whole stack until Ctrl-C; with ``broker="kafka"`` on one Apache Kafka node whose log stays in .run/kafka."""
    busy = ports_in_use()
    if busy:
        console.print(f"[red]waspada: cannot start: in use: {', '.join(busy)} (is another stack running?)[/red]")
        sys.exit(2)
    workdir = REPO_ROOT / ".run"
    workdir.mkdir(exist_ok=True)
    stack = Stack(
        workdir=workdir,
        broker=broker,
        kafka_bootstrap=os.environ.get("WASPADA_KAFKA_BOOTSTRAP"),
        redis_url=os.environ.get("WASPADA_REDIS_URL"),
        database_url=os.environ.get("WASPADA_DATABASE_URL"),
    )
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        with console.status("starting broker, Valkey and PostgreSQL …"):
            stack.start_broker(DEFAULT_PORTS["broker"])
            stack.start_valkey(DEFAULT_PORTS["valkey"])
            stack.start_postgres(DEFAULT_PORTS["postgres"], data_dir=workdir / "postgres", durable=True)
        for name in SERVICES:
            with console.status(f"starting {name} …"):
                stack.start_service(name, _port(name), to_terminal=name == "sink")
        banner(stack)
        while True:
            dead = [n for n, p in stack.processes.items() if not p.alive()]
            if dead:
                console.print(f"[red]{', '.join(dead)} stopped unexpectedly; see {workdir}/<name>.log[/red]")
                break
            time.sleep(1)
    except Stop:
        pass
    except RuntimeError as exc:
        console.print(f"[red]waspada: {exc}[/red]")
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        with console.status("stopping …"):
            stack.stop()
        console.print("stopped; no process left behind.")


def banner(stack: Stack) -> None:
    console.print("[bold green]Waspada is running.[/bold green] Ctrl-C stops everything.\n")
    console.print(f"  ingest   {stack.url('ingest')}/docs")
    console.print(f"  triage   {stack.url('triage')}/metrics")
    console.print(f"  notify   {stack.url('notify')}/console   (officer API {stack.url('notify')}/v1/escalations)")
    console.print(f"  sink     {stack.url('sink')}/received   (notifications are printed below)")
    console.print(f"  kafka    {stack.kafka_bootstrap} ({broker_label(stack)})    valkey {stack.redis_url}")
    console.print(f"  records  {stack.database_url}   (PostgreSQL, data in .run/postgres)")
    console.print(f"  logs     {stack.workdir}/*.log\n")
    console.print("Try it (a tip about a job offer in Cambodia for minors in Desa Lontar, Kab. Serang):\n")
    console.print(curl_line(stack.url("ingest")), soft_wrap=True, highlight=False, markup=False)
    console.print("\nor run the whole demo scenario in another terminal: make demo\n")


def broker_label(stack: Stack) -> str:
    if stack.kafka is not None:
        return f"Apache Kafka {kafka_version()}, its log in {stack.kafka.root}"
    return "the embedded broker, its log in memory" if "broker" in stack.processes else "given"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m devstack")
    parser.add_argument("command", choices=["run", "demo"])
    parser.add_argument("--broker", choices=["embedded", "kafka"], default="embedded", help="for run")
    args = parser.parse_args()
    if args.command == "run":
        run(args.broker)
    else:
        demo.main()


if __name__ == "__main__":
    main()
