# The two commands of the README: `make run` and `make test`. Everything else is a helper.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
export DAGSTER_HOME ?= $(CURDIR)/.osuny/dagster
PYTEST_WORKERS ?= 2

.PHONY: install run test demo bench bench-quick lint clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/pip install -q --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## The embedded default: SQLite CMS and Dagster instance under .osuny/, the demo website
## loaded, a local bare repository as its remote, and the Dagster UI on 127.0.0.1:3000.
run: $(STAMP)
	mkdir -p "$(DAGSTER_HOME)"
	if [ -n "$${DAGSTER_PG_URL:-}" ]; then cp deploy/dagster.yaml "$(DAGSTER_HOME)/dagster.yaml"; \
	else cp dagster.yaml "$(DAGSTER_HOME)/dagster.yaml"; fi
	$(BIN)/osuny-pipeline prepare-demo
	$(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

## The whole test suite (SQLite always; PostgreSQL at OSUNY_TEST_PG_URL).
test: $(STAMP)
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile -q

## One shot in the terminal: load the demo, run every phase, print a summary.
demo: $(STAMP)
	$(BIN)/osuny-pipeline demo

## matplotlib (the optional `bench` group) only draws docs/benchmarks.png: installed on first use.
bench: $(STAMP)
	$(BIN)/python -c 'import matplotlib' 2>/dev/null || $(BIN)/pip install -q --disable-pip-version-check -e '.[dev,bench]'
	$(BIN)/python -m bench

bench-quick: $(STAMP)
	$(BIN)/python -m bench --quick

lint: $(STAMP)
	$(BIN)/ruff check osuny_pipeline osuny_pipeline_tests bench

clean:
	rm -rf .osuny
