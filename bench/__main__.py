"""``python -m bench`` (``make bench``): the figures of CONTRACT §9; ``python -m bench soak --minutes 10``: the soak."""

import argparse

from rich.console import Console

from bench import report, run


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    sub = parser.add_subparsers(dest="command")
    soak = sub.add_parser("soak", help="steady load, sampling memory and consumer lag of every service")
    soak.add_argument("--minutes", type=float, default=10.0)
    soak.add_argument("--rate", type=float, default=50.0, help="offered events/s")
    args = parser.parse_args()
    console = Console()
    if args.command == "soak":
        from bench import soak as soak_module

        soak_module.main(console, minutes=args.minutes, rate=args.rate)
        return
    results = run.run(console)
    report.write(results)
    report.show(results, console)


if __name__ == "__main__":
    main()
