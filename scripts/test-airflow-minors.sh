#!/usr/bin/env bash
# The provider on each older Airflow 3 minor the README supports (3.0, 3.1, 3.2): for each, a fresh
# virtual environment built from constraints/airflow-<minor>.txt, then a reduced suite:
#
#   * the example DAGs run by `airflow dags test` (tests/example_dags, without the demo script's
#     own tests, which run the same pipeline DAG) and the compat probe DAG run there too;
#   * the operator, sensor and trigger tests; the compat tests (tests/test_compat.py).
#
# The whole suite stays on the newest Airflow (`make test`) and on 2.11 (`make test-airflow2`).
#
#   scripts/test-airflow-minors.sh [pytest arguments...]
#
# MINORS picks the minors (default "3.0 3.1 3.2"); PYTHON the interpreter (default python3,
# 3.11+). Each environment is .venv-<minor> (git ignores it), installed from its lock
# (scripts/environments.sh) and checked against it, rebuilt on every run unless KEEP_VENVS=1 (for
# iterating locally, and for CI's second call); INSTALL_ONLY=1 builds them and runs nothing. The
# suites run side by side (see below). A failing minor does not stop the others; the exit status
# says whether all passed, and FAILED_MINORS_FILE, when set, receives the failed minors.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
MINORS="${MINORS:-3.0 3.1 3.2}"
KEEP_VENVS="${KEEP_VENVS:-0}"
TESTS=(tests/example_dags tests/operators tests/sensors tests/triggers tests/test_compat.py)
IGNORED=(--ignore=tests/example_dags/test_demo.py)
export PIP_DISABLE_PIP_VERSION_CHECK=1
export PYTHONDONTWRITEBYTECODE=1
# shellcheck source=scripts/environments.sh
source scripts/environments.sh

started=$SECONDS
# Install every minor first (uv: seconds each), then run their suites at the same time: each
# suite mostly waits on `airflow dags test` subprocesses, so three suites side by side on two
# cores take about as long as the slowest alone rather than the sum. Each suite writes its own
# log, printed whole when all are done, so the CI log still reads minor by minor.
failed=()
failed_minors=()
declare -A AIRFLOW_OF PID_OF LOG_OF
for minor in ${MINORS}; do
    minor_started=$SECONDS
    lock=$(env_lock "${minor}")
    venv=$(env_venv "${minor}")
    airflow=$(env_airflow "${minor}")
    if [[ -z "${airflow}" ]]; then
        echo "== $(env_pins "${minor}") pins no apache-airflow==X.Y.Z" >&2
        exit 2
    fi
    echo "== Airflow ${airflow}: fresh ${venv} from ${lock}"
    if [[ "${KEEP_VENVS}" == 1 && -x "${venv}/bin/python" ]]; then
        echo "== (KEEP_VENVS=1: reusing ${venv})"
    elif ! install_env "${minor}" "${lock}" "${venv}"; then
        failed+=("${airflow} (install)")
        failed_minors+=("${minor}")
        continue
    fi
    if ! check_env "${minor}" "${venv}"; then
        failed+=("${airflow} (not the lock)")
        failed_minors+=("${minor}")
        continue
    fi
    "${venv}/bin/python" - "${airflow}" <<'PY'
import sys
from importlib.metadata import version

import airflow

wanted = sys.argv[1]
assert airflow.__version__ == wanted, f"expected Airflow {wanted}, got {airflow.__version__}"
print(
    f"== Airflow {airflow.__version__}: task-sdk {version('apache-airflow-task-sdk')},"
    f" common-compat {version('apache-airflow-providers-common-compat')},"
    f" airflow-provider-cloudos {version('airflow-provider-cloudos')}"
)
PY
    echo "== Airflow ${airflow}: installed in $((SECONDS - minor_started))s"
    AIRFLOW_OF[${minor}]=${airflow}
done

if [[ "${INSTALL_ONLY:-0}" == 1 ]]; then
    echo "== Airflow minors (${MINORS}) installed in $((SECONDS - started))s (INSTALL_ONLY=1: no suite run)"
    if ((${#failed[@]})); then
        echo "== failed to install: ${failed[*]}" >&2
        exit 1
    fi
    exit 0
fi

suites_started=$SECONDS
for minor in "${!AIRFLOW_OF[@]}"; do
    LOG_OF[${minor}]="$(mktemp)"
    (
        ".venv-${minor}/bin/python" -m pytest -p no:cacheprovider -q "${TESTS[@]}" "${IGNORED[@]}" "$@" \
            >"${LOG_OF[${minor}]}" 2>&1
    ) &
    PID_OF[${minor}]=$!
    echo "== Airflow ${AIRFLOW_OF[${minor}]}: reduced suite started: ${TESTS[*]}"
done
for minor in ${MINORS}; do
    [[ -n "${PID_OF[${minor}]:-}" ]] || continue
    airflow=${AIRFLOW_OF[${minor}]}
    if wait "${PID_OF[${minor}]}"; then
        outcome="passed"
    else
        outcome="FAILED"
        failed+=("${airflow}")
        failed_minors+=("${minor}")
    fi
    echo "== Airflow ${airflow}: reduced suite output"
    cat "${LOG_OF[${minor}]}"
    rm -f "${LOG_OF[${minor}]}"
    echo "== Airflow ${airflow}: ${outcome} (suites running side by side for $((SECONDS - suites_started))s)"
done

echo "== Airflow minors (${MINORS}) finished in $((SECONDS - started))s"
if [[ -n "${FAILED_MINORS_FILE:-}" ]]; then
    echo "${failed_minors[*]}" >"${FAILED_MINORS_FILE}"
fi
if ((${#failed[@]})); then
    echo "== failed on Airflow: ${failed[*]}" >&2
    exit 1
fi
