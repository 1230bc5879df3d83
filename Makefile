# Two commands do all the set-up on a fresh machine:
#   make demo   - install casewatch in .venv and run the embedded demo (no servers needed)
#   make test   - install everything the tests need (Python deps, Kafka, Redis, Prometheus,
#                 Alertmanager), start the local stack on loopback, and run the whole suite
# Python dependencies come from requirements.lock (exact versions, sha256 of every file):
#   make lock   - re-resolve pyproject.toml into requirements.lock and requirements-runtime.lock
#   make audit  - fail when a locked version misses a tracked security fix (security/known-fixes.toml)
#   make sbom   - CycloneDX SBOM of the runtime dependencies in build/sbom.cdx.json
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test bench stack-up stack-down generate clean lock audit sbom

# Hash-checked, no resolver at install time: what the lock says is what runs. The project itself
# is installed without build isolation, from the locked setuptools and wheel.
$(BIN)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

demo: $(BIN)/.installed
	$(BIN)/casewatch demo

test: $(BIN)/.installed audit
	PATH="$(CURDIR)/$(BIN):$$PATH" scripts/test

audit: $(BIN)/.installed
	$(BIN)/python scripts/audit_deps.py

# uv resolves against PyPI and records every file's hash (pip-compile asks PyPI's per-version
# JSON API for hashes, which is not reachable from every build machine). The runtime lock is
# constrained by the full one, so both pin the same versions.
UV_COMPILE = $(BIN)/uv pip compile --quiet --generate-hashes --python-version 3.11 \
	--python-platform x86_64-manylinux_2_28 --custom-compile-command "make lock"
lock: $(BIN)/.installed
	$(BIN)/python -m pip install --quiet 'uv>=0.5,<1'
	$(UV_COMPILE) --extra dev -o requirements.lock pyproject.toml requirements-build.in
	$(UV_COMPILE) --constraint requirements.lock -o requirements-runtime.lock pyproject.toml requirements-build.in

sbom: $(BIN)/.installed
	$(BIN)/python -m pip install --quiet 'cyclonedx-bom>=7,<8'
	mkdir -p build
	$(BIN)/cyclonedx-py requirements --pyproject pyproject.toml --output-reproducible \
		--output-format JSON --output-file build/sbom.cdx.json requirements-runtime.lock
	@echo "SBOM: build/sbom.cdx.json"

# The benchmarks that need no stack. The others need `casewatch stack up` (README, Development):
# bench/streaming.py, bench/scrape.py, bench/rebuild.py, bench/alert_delay.py, bench/ingest_api.py.
bench: $(BIN)/.installed
	$(BIN)/python bench/replay.py
	$(BIN)/python bench/forecast_backtest.py
	$(BIN)/python bench/exposition_text.py
	$(BIN)/python bench/case_state.py

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
