# Waspada: every command a newcomer needs (README "Quick start"). Python 3.11+ and make; no Docker, no root.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: install run demo test lint schemas bench clean chromium

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

test: install chromium
	$(PY) -m pytest

# The console tests drive Debian's chromium through Playwright (Playwright's own download does not work here).
chromium:
	@[ -x /usr/bin/chromium ] || command -v chromium >/dev/null 2>&1 || \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "make test needs the chromium package: run 'sudo apt-get install -y chromium' and try again" >&2; exit 1; fi

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

schemas: install
	$(PY) -m schemas.export

bench: install
	$(PY) -m bench

clean:
	rm -rf $(VENV) .run .pytest_cache .mypy_cache .ruff_cache
