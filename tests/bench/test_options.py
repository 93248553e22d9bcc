"""``python -m bench``'s options and the per-broker layout of results.json (no stack started)."""

from bench import __main__ as cli
from bench import run


def test_broker_defaults_to_both() -> None:
    args = cli.parser().parse_args([])
    assert cli.BROKER_CHOICES[args.broker] == ("embedded", "kafka") and not args.quick


def test_broker_picks_one() -> None:
    assert cli.BROKER_CHOICES[cli.parser().parse_args(["--broker", "kafka", "--quick"]).broker] == ("kafka",)


def test_section_ratios_are_to_its_own_raw_figures() -> None:
    figures: dict[str, float | None] = {"raw_produce_eps": 1000.0, "ingest_single_eps": 250.0}
    section = run.section(figures, {}, {}, wall_seconds=1.0)
    assert list(section["figures"]) == list(run.ORDER)
    assert section["ratios"]["ingest_single_eps/raw_produce_eps"] == 0.25
