# The two commands the README promises, plus the pieces CI runs.
# Every target installs what it needs from this repository's own files.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install test lint unit e2e test-airflow2 demo mutation clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/python -m pytest

## make test: lint, type-check and run the whole test suite on Airflow 3 (end-to-end test included).
test: lint unit

## make e2e: only the real-Airflow end-to-end test (api-server, scheduler, dag-processor, triggerer).
e2e: $(STAMP)
	PYTHON=$(BIN)/python bash scripts/e2e.sh

## make test-airflow2: the whole suite (minus e2e) on Airflow 2.11, in its own fresh .venv-airflow2.
test-airflow2:
	PYTHON=$(PYTHON) bash scripts/test-airflow2.sh

## make mutation: mutation testing (mutmut) of core/, client/, operators/, triggers/; writes TESTING.md. Not in CI (hours).
mutation: $(STAMP)
	PYTHON=$(BIN)/python bash scripts/mutation.sh

## make demo: run the example pipeline DAG against the local CloudOS simulator.
demo: $(STAMP)
	$(BIN)/python -m airflow_provider_cloudos.demo

clean:
	rm -rf $(VENV) .venv-airflow2 mutants .pytest_cache .mypy_cache .ruff_cache build *.egg-info
