# The two commands the README promises, plus the pieces CI runs.
# Every target installs what it needs from this repository's own files.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: check-commands constraints install test lint unit e2e deployment-test soak deployment-shared-reads browser-test docs docs-images test-airflow2 test-airflow-minors demo dist check-wheel mutation behavioural-mutants clean

# The newest Airflow with every development group, installed from its lock (constraints/airflow-3.3.txt,
# every distribution pinned) and checked against it; scripts/environments.sh says what each environment holds.
$(STAMP): pyproject.toml constraints/airflow-3.3.txt constraints/build.txt scripts/environments.sh
	PYTHON=$(PYTHON) bash scripts/install-env.sh 3.3 $(VENV)
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

## make deployment-test: PostgreSQL, Redis, 2 Celery workers, 2 triggerers and crashes (reduced soak).
deployment-test: $(STAMP)
	PYTHON=$(BIN)/python bash scripts/deployment-test.sh

## make soak: the full soak (46 runs); its figures go to bench/results/deployment_soak.json.
soak: $(STAMP)
	PYTHON=$(BIN)/python SCALE=full CLOUDOS_SOAK_RESULTS=1 bash scripts/deployment-test.sh
	$(BIN)/python -m bench.report

## make deployment-shared-reads: 1,000 waits on one connection in the real triggerers, a triggerer
## killed; reads per second go to bench/results/deployment_shared_reads.json.
deployment-shared-reads: $(STAMP)
	PYTHON=$(BIN)/python CLOUDOS_SHARED_READS=1 CLOUDOS_SHARED_READS_RESULTS=1 bash scripts/deployment-test.sh
	$(BIN)/python -m bench.report

## make browser-test: Airflow 3's web UI in headless Chromium (installs chromium and Playwright if missing).
browser-test: $(STAMP)
	PYTHON=$(BIN)/python bash scripts/browser-test.sh

## make docs: the documentation site (Sphinx, furo, MyST; the API reference from the docstrings) into
## docs/_build/html, built afresh, every warning an error.
docs: $(STAMP)
	rm -rf docs/_build
	$(BIN)/sphinx-build -W --keep-going -b html docs docs/_build/html

## make docs-images: run the browser test and refresh the screenshots in docs/images.
docs-images: $(STAMP)
	CLOUDOS_SCREENSHOTS_DIR=docs/images PYTHON=$(BIN)/python bash scripts/browser-test.sh

## make test-airflow2: the whole suite (minus e2e) on Airflow 2.11, in its own fresh .venv-airflow2.
test-airflow2:
	PYTHON=$(PYTHON) bash scripts/test-airflow2.sh

## make test-airflow-minors: a reduced suite on 3.0, 3.1 and 3.2, each in a fresh .venv-3.X.
test-airflow-minors:
	PYTHON=$(PYTHON) bash scripts/test-airflow-minors.sh

## make mutation: mutation testing (mutmut) of core/, client/, operators/, triggers/; writes TESTING.md. Not in CI (hours).
mutation: $(STAMP)
	PYTHON=$(BIN)/python bash scripts/mutation.sh

## make behavioural-mutants: the hand-written mutants of mutation/behavioural.toml (ownership, deadlines,
## kill paths, duplicate creates...), each applied to a copy of the package: each must turn a test red.
behavioural-mutants: $(STAMP)
	$(BIN)/python scripts/behavioural_mutants.py

## make demo: run the example pipeline DAG against the local CloudOS simulator.
demo: $(STAMP)
	$(BIN)/python -m airflow_provider_cloudos.demo

## make dist: build the wheel and the sdist into dist/ and check them with twine.
dist: $(STAMP)
	rm -rf dist
	PIP_CONSTRAINT=constraints/build.txt $(BIN)/python -m build --outdir dist .
	$(BIN)/twine check --strict dist/*

## make check-wheel: install the built wheel into a clean venv next to Airflow 3; check Airflow lists it.
check-wheel: dist
	PYTHON=$(PYTHON) bash scripts/check-wheel.sh

## make check-commands: every command of the README and the installation page, verbatim, in a fresh clone.
check-commands:
	PYTHON=$(PYTHON) $(PYTHON) scripts/check_commands.py README.md docs/installation.md

## make constraints [AIRFLOW="3.1 3.2"]: re-resolve the locks from constraints/pins/ on purpose, run each
## environment's suite on its new lock, keep the locks that pass (for review; CI never does this).
constraints:
	PYTHON=$(PYTHON) AIRFLOW="$(AIRFLOW)" bash scripts/refresh-constraints.sh

clean:
	rm -rf $(VENV) .venv-airflow2 .venv-3.0 .venv-3.1 .venv-3.2 .venv-uv .venv-wheel .venv-resolve-* mutants .pytest_cache .mypy_cache .ruff_cache build dist *.egg-info docs/_build
