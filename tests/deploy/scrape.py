"""Reading a service's /metrics the way Prometheus does (prometheus-client's own parser)."""

import urllib.error
import urllib.request

from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families


def scrape(base_url: str) -> dict[str, Metric]:
    """Family name → family, as exposed at ``<base_url>/metrics``."""
    with urllib.request.urlopen(base_url + "/metrics", timeout=10) as response:
        text = response.read().decode()
    families = {family.name: family for family in text_string_to_metric_families(text)}
    # the text format carries each counter's and histogram's creation time as a gauge of its own
    return {
        n: f for n, f in families.items() if not (n.endswith("_created") and n.removesuffix("_created") in families)
    }


def family_name(metric: str, kind: str) -> str:
    """The exposition family of a catalogue name: counters are listed with ``_total``, families without."""
    return metric.removesuffix("_total") if kind == "counter" else metric


def value(families: dict[str, Metric], sample: str, **labels: str) -> float:
    """Sum of the samples named ``sample`` whose labels include ``labels`` (0 when there are none)."""
    total = 0.0
    for family in families.values():
        for s in family.samples:
            if s.name == sample and all(s.labels.get(k) == v for k, v in labels.items()):
                total += s.value
    return total


def scrape_all(urls: dict[str, str]) -> tuple[dict[str, dict[str, Metric]], list[str]]:
    """Scrape every service; (families by service, services whose /metrics answered 5xx)."""
    families: dict[str, dict[str, Metric]] = {}
    broken: list[str] = []
    for name, url in urls.items():
        try:
            families[name] = scrape(url)
        except urllib.error.HTTPError as exc:
            if exc.code < 500:
                raise
            broken.append(name)
    return families, broken


def assert_none_broken(broken: list[str]) -> None:
    """After every check that could run has run: a plain failure naming each service whose /metrics answered 5xx."""
    assert not broken, f"/metrics answers 5xx on {broken}"
