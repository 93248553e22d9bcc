# Waspada: every command a newcomer needs (README, "Quick start"). Python 3.11+ and make; no Docker, no root.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: install run demo test lint schemas config-docs bench faults drills soak clean dashboards system-deps kafka-deps

install: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "waspada needs Python 3.11 or newer"'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

# BROKER=kafka: the same stack on one Apache Kafka node, its log kept under .run/kafka
BROKER ?= embedded
run: install $(if $(filter kafka,$(BROKER)),kafka-deps)
	$(PY) -m devstack run --broker $(BROKER)

demo: install
	$(PY) -m devstack demo

test: install system-deps kafka-deps
	$(PY) -m pytest

# System packages some tests drive for real: promtool and prometheus (Debian `prometheus`, for
# tests/deploy) and chromium (for the console tests through Playwright, whose own browser
# download does not work here). Installed when missing and we are root (as CI is); otherwise one
# line naming the packages, and a stop: never a silent skip.
SYSTEM_PKGS_MISSING = $(strip $(if $(shell command -v promtool && command -v prometheus),,prometheus) \
                              $(if $(shell [ -x /usr/bin/chromium ] && echo y),,chromium))
system-deps:
	@missing="$(SYSTEM_PKGS_MISSING)"; [ -z "$$missing" ] && exit 0; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing Debian packages: $$missing"; apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	else echo "waspada: make test needs the Debian packages: $$missing (apt-get install $$missing)" >&2; exit 1; fi

# Apache Kafka for the tests (docs/brokers.md): the pinned jars from Maven Central, formatted
# storage and a class-data archive, made once into ~/.cache/waspada, before pytest, so that no test
# pays for a download inside its timeout. Java 17+ and Maven: installed by apt-get as root (as CI
# is); otherwise one line naming the packages, and a stop.
kafka-deps: install
	@$(PY) -m devstack.kafka

dashboards: install
	$(PY) -m deploy.grafana.build

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache

schemas: install
	$(PY) -m schemas.export

# docs/configuration.md, the reference of every WASPADA_* variable (tests/common/test_config_docs.py checks it)
config-docs: install
	$(PY) -m services.config_docs

# BROKER=embedded|kafka|both (default both: each broker's figures with its own raw figures)
BENCH_BROKER = $(if $(filter file,$(origin BROKER)),both,$(BROKER))
bench: install $(if $(filter embedded,$(BENCH_BROKER)),,kafka-deps)
	$(PY) -m bench --broker $(BENCH_BROKER)

# the long fault drills (a 30 s broker stall, a receiver down for a minute) and the fuzz and poison tests
faults: install kafka-deps
	WASPADA_FAULTS_LONG=1 $(PY) -m pytest tests/faults -p no:cacheprovider -rA --deselect tests/faults/test_soak.py

# every Apache Kafka fault drill RUNS times (DRILLS=word,word: only those whose name has one), then a table of the
# books: passes, lost, double-delivered, time to resume; one JSON line per run under test-output/
RUNS ?= 10
DRILLS ?=
drills: install kafka-deps
	$(PY) -m bench.drills --runs $(RUNS) $(if $(DRILLS),-k $(DRILLS))

soak: install
	$(PY) -m bench soak --minutes 10

clean:
	rm -rf $(VENV) .run .pytest_cache .mypy_cache .ruff_cache
