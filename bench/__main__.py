"""``python -m bench`` (``make bench``): the figures of CONTRACT §9; ``python -m bench soak --minutes 10``: the soak."""

import argparse
import tempfile
from pathlib import Path

from rich.console import Console

from bench import report, run
from devstack.stack import Broker

BROKER_CHOICES: dict[str, tuple[Broker, ...]] = {
    "embedded": ("embedded",),
    "kafka": ("kafka",),
    "both": run.BENCH_BROKERS,
}


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--broker", choices=tuple(BROKER_CHOICES), default="both", help="which broker(s) to measure on (default: both)"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="small counts for a smoke run; written to a temporary file, not results.json",
    )
    sub = parser.add_subparsers(dest="command")
    soak = sub.add_parser("soak", help="steady load, sampling memory and consumer lag of every service")
    soak.add_argument("--minutes", type=float, default=10.0)
    soak.add_argument("--rate", type=float, default=50.0, help="offered events/s")
    return parser


def main() -> None:
    args = parser().parse_args()
    console = Console()
    if args.command == "soak":
        from bench import soak as soak_module

        soak_module.main(console, minutes=args.minutes, rate=args.rate)
        return
    counts = run.QUICK if args.quick else run.FULL
    results = run.run(console, BROKER_CHOICES[args.broker], counts)
    path = Path(tempfile.mkdtemp(prefix="waspada-bench-")) / "results.json" if args.quick else report.RESULTS
    report.write(results, path)
    report.show(results, console, path)


if __name__ == "__main__":
    main()
