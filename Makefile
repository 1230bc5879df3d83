# Two commands do all the set-up on a fresh machine:
#   make demo   - install casewatch in .venv and run the embedded demo (no servers needed)
#   make test   - install everything the tests need (Python deps, Kafka, Redis, Prometheus,
#                 Alertmanager), start the local stack on loopback, and run the whole suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test bench stack-up stack-down generate clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

demo: $(BIN)/.installed
	$(BIN)/casewatch demo

test: $(BIN)/.installed
	PATH="$(CURDIR)/$(BIN):$$PATH" scripts/test

bench: $(BIN)/.installed
	$(BIN)/python bench/replay.py

stack-up: $(BIN)/.installed
	$(BIN)/casewatch stack up

stack-down: $(BIN)/.installed
	$(BIN)/casewatch stack down

# Regenerate every committed artefact (schema, rules, configs, dashboards) with the one
# generator (dashboards/generate.py); tests fail when they drift.
generate: $(BIN)/.installed
	$(BIN)/casewatch generate

clean:
	rm -rf $(VENV) .stack build *.egg-info
