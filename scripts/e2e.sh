#!/usr/bin/env bash
# The real-Airflow end-to-end test alone: api-server, scheduler, dag-processor and triggerer
# (SQLite, LocalExecutor) run the example DAGs against the local CloudOS simulator, on loopback.
# Takes a minute or two; the test starts and stops every process itself.
# Usage: scripts/e2e.sh [extra pytest arguments]   (after `make install`)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"
exec "${PYTHON}" -m pytest -m airflow_e2e tests/e2e -p no:cacheprovider -q "$@"
