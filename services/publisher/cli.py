"""``python -m services.publisher FILE.jsonl``: publish a JSON-lines export onto the input topics.

One event per line (with ``type``, or ``--type`` for files of one kind). Shows a progress bar,
then a summary: how many lines Kafka accepted, and every rejected line by number and field.
Exit status 0 when every line was accepted, 1 when some were rejected, 2 on a configuration error.
"""

import argparse
import sys
from pathlib import Path

import orjson
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from schemas.events import MODELS
from services.common.settings import load_settings
from services.publisher.client import LineResult, Publisher
from services.publisher.settings import PublisherSettings


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m services.publisher", description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path, help="JSON lines, one event per line")
    parser.add_argument("--type", choices=list(MODELS), help="for lines without type")
    parser.add_argument("--channel", help="channel id put in the records' header (default WASPADA_PUBLISHER_CHANNEL)")
    return parser.parse_args(argv)


def publish_file(publisher: Publisher, path: Path, default_type: str | None, console: Console) -> list[LineResult]:
    """Offer every non-blank line, with a progress bar; then wait for Kafka's acknowledgements."""
    lines = path.read_bytes().splitlines()
    results = []
    columns = (TextColumn("publishing"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("lines", total=len(lines))
        for number, line in enumerate(lines, start=1):
            progress.advance(task)
            if not line.strip():
                continue
            try:
                raw = orjson.loads(line)
            except orjson.JSONDecodeError:
                results.append(LineResult(number, errors=["(line): not valid JSON"]))
                continue
            results.append(publisher.offer(number, raw, default_type))
    publisher.confirm()
    return results


def summarise(results: list[LineResult], console: Console) -> int:
    """Print the summary; the process exit status."""
    accepted = sum(r.accepted for r in results)
    rejected = [r for r in results if not r.accepted]
    console.print(f"[green]{accepted} accepted[/green], [red]{len(rejected)} rejected[/red]")
    for result in rejected:
        for error in result.errors:
            console.print(f"  line {result.line}: {error}", markup=False, highlight=False)
    return 1 if rejected else 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    settings = load_settings(PublisherSettings)
    if not args.file.is_file():
        print(f"waspada: {args.file}: file not found", file=sys.stderr)
        return 2
    console = Console(stderr=False)
    publisher = Publisher(
        settings.kafka_bootstrap,
        settings.pseudonym_key.get_secret_value().encode(),
        args.channel or settings.publisher_channel,
    )
    try:
        return summarise(publish_file(publisher, args.file, args.type, console), console)
    finally:
        publisher.close()
