# Mentor Pulse — set-up and everyday commands. `make demo` and `make test` are all a fresh
# machine needs: each creates the .venv and installs the project first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export MENTORPULSE_DATA_DIR ?= $(CURDIR)/data
# Runs of demo, run and dev are kept here (and shown by `make dev`); tests use their own.
DAGSTER_HOME ?= $(MENTORPULSE_DATA_DIR)/dagster_home

.PHONY: install browser demo run test lint format dev docs bench bench-smoke clean

$(BIN)/mentorpulse: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/mentorpulse

# The dashboard tests drive Debian's Chromium (test tools never download their own browser).
browser:
	@command -v chromium >/dev/null || { \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
		else echo "Install Debian's chromium first: sudo apt-get install chromium" >&2; exit 1; fi; }

demo: install
	DAGSTER_HOME=$(DAGSTER_HOME) $(BIN)/mentorpulse demo

run: install
	DAGSTER_HOME=$(DAGSTER_HOME) $(BIN)/mentorpulse run

test: install browser
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

$(DAGSTER_HOME)/dagster.yaml: pipelines/dagster.yaml
	mkdir -p $(DAGSTER_HOME)
	cp pipelines/dagster.yaml $@

# The UI, the daemon (sensors, schedule, automation: all on by default) and a persistent home.
dev: install $(DAGSTER_HOME)/dagster.yaml
	DAGSTER_HOME=$(DAGSTER_HOME) $(BIN)/dagster dev -w workspace.yaml --log-level warning

docs: install
	$(BIN)/mentorpulse dictionary --output docs/data_dictionary.md

bench: install
	$(BIN)/python benchmarks/benchmark.py --profile $(or $(PROFILE),medium)

bench-smoke: install
	$(BIN)/python benchmarks/benchmark.py --profile small

clean:
	rm -rf data test-artifacts
