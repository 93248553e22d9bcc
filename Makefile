# Waspada: every command a newcomer needs (README "Quick start"). Python 3.11+ and make; no Docker, no root.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: install run demo test lint schemas bench clean dashboards prometheus-tools

install: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "waspada needs Python 3.11 or newer"'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

run: install
	$(PY) -m devstack run

demo: install
	$(PY) -m devstack demo

test: install prometheus-tools
	$(PY) -m pytest

# promtool and prometheus (Debian package `prometheus`) for tests/deploy: installed when missing
# and we are root, else one line naming the package and a stop.
prometheus-tools:
	@command -v promtool >/dev/null && command -v prometheus >/dev/null || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null; } || \
	  { echo "waspada: make test needs promtool and prometheus: install the Debian package 'prometheus' (apt-get install prometheus)"; exit 1; }

dashboards: install
	$(PY) -m deploy.grafana.build

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

schemas: install
	$(PY) -m schemas.export

bench: install
	$(PY) -m bench

clean:
	rm -rf $(VENV) .run .pytest_cache .mypy_cache .ruff_cache
