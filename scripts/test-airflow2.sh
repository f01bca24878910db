#!/usr/bin/env bash
# The unit suite on Airflow 2.11 (the latest 2.11.x), in a fresh virtual environment built from
# this repository's own files and the lock constraints/airflow-2.11.txt. The suite includes `airflow dags
# test` of every example DAG against the local CloudOS simulator (tests/example_dags/). Lint and
# type checks run on 3.x only (`make test`); the real-Airflow end-to-end tests (tests/e2e/) stay on
# 3.x too.
#
#   scripts/test-airflow2.sh [pytest arguments...]
#
# PYTHON picks the interpreter (default python3, 3.11+); VENV the environment's path (default
# .venv-airflow2, which git ignores). The environment is rebuilt on every run.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
VENV="${VENV:-.venv-airflow2}"
export PIP_DISABLE_PIP_VERSION_CHECK=1
export PYTHONDONTWRITEBYTECODE=1
# shellcheck source=scripts/environments.sh
source scripts/environments.sh

started=$SECONDS
echo "== fresh virtual environment ${VENV} with ${PYTHON} ($("${PYTHON}" --version 2>&1)) from $(env_lock 2.11)"
install_env 2.11 "$(env_lock 2.11)" "${VENV}"
check_env 2.11 "${VENV}"
"${VENV}/bin/python" - <<'PY'
from importlib.metadata import version

import airflow

assert airflow.__version__.startswith("2.11."), f"expected Airflow 2.11.x, got {airflow.__version__}"
print(
    f"== Airflow {airflow.__version__}, common-compat {version('apache-airflow-providers-common-compat')},"
    f" airflow-provider-cloudos {version('airflow-provider-cloudos')}"
)
PY
echo "== installed in $((SECONDS - started))s"

echo "== unit suite on Airflow 2.11 (tests/ without tests/e2e)"
"${VENV}/bin/python" -m pytest -p no:cacheprovider tests --ignore=tests/e2e "$@"
echo "== Airflow 2.11 run finished in $((SECONDS - started))s"
