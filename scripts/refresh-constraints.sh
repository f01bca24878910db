#!/usr/bin/env bash
# make constraints [AIRFLOW="3.1 3.2"]: re-resolve the locks on purpose, and keep only those whose
# environment's suite passes.
#
# For each minor (default: all five): resolve its environment afresh from the deliberate pins
# (constraints/pins/airflow-<minor>.txt), write what got installed as the new lock
# (constraints/airflow-<minor>.txt, scripts/lock.py write), then run that environment's suite the
# way CI does, installed from the new lock and checked against it:
#
#   3.3   make test (lint, types, the whole suite, the end-to-end test)
#   2.11  make test-airflow2
#   3.0, 3.1, 3.2   make test-airflow-minors (side by side, one call)
#
# A lock whose suite fails is put back as it was (the new one is kept as <lock>.rejected, which git
# ignores), and the run fails naming it. The new files are
# for review (`git diff constraints/`): CI never runs this, it only installs from the locks.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/environments.sh
source scripts/environments.sh

PYTHON="${PYTHON:-python3}"
export PYTHON PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
MINORS="${AIRFLOW:-${ENVIRONMENTS}}"
started=$SECONDS

backup="$(mktemp -d)"
trap 'rm -rf "${backup}"' EXIT
for minor in ${MINORS}; do
    pins=$(env_pins "${minor}")
    lock=$(env_lock "${minor}")
    [[ -f "${pins}" ]] || {
        echo "== no ${pins}: the minors are ${ENVIRONMENTS}" >&2
        exit 2
    }
    [[ -f "${lock}" ]] && cp "${lock}" "${backup}/$(basename "${lock}")"
    venv=".venv-resolve-${minor}"
    echo "== Airflow ${minor}: a fresh resolve under ${pins}"
    install_env "${minor}" "${pins}" "${venv}"
    "${venv}/bin/python" scripts/lock.py write "${minor}" "${pins}" "${lock}" "$(env_requirements "${minor}")"
    rm -rf "${venv}"
done

restore() {
    local minor=$1 lock saved
    lock=$(env_lock "${minor}")
    saved="${backup}/$(basename "${lock}")"
    mv "${lock}" "${lock}.rejected"
    if [[ -f "${saved}" ]]; then cp "${saved}" "${lock}"; fi
    echo "== Airflow ${minor}: its suite failed on the new lock; ${lock} is back as it was" \
        "(the new one is ${lock}.rejected, for a look)" >&2
}

failed=()
minors_to_run=""
for minor in ${MINORS}; do
    case "${minor}" in
        3.3)
            echo "== Airflow 3.3: make test on the new lock"
            rm -rf .venv
            make test PYTHON="${PYTHON}" || { restore 3.3; failed+=(3.3); }
            ;;
        2.11)
            echo "== Airflow 2.11: make test-airflow2 on the new lock"
            make test-airflow2 PYTHON="${PYTHON}" || { restore 2.11; failed+=(2.11); }
            ;;
        *) minors_to_run="${minors_to_run} ${minor}" ;;
    esac
done
if [[ -n "${minors_to_run}" ]]; then
    echo "== Airflow${minors_to_run}: make test-airflow-minors on the new locks"
    failed_file="${backup}/failed-minors"
    if ! MINORS="${minors_to_run# }" FAILED_MINORS_FILE="${failed_file}" make test-airflow-minors PYTHON="${PYTHON}"; then
        for minor in $(cat "${failed_file}" 2>/dev/null || echo "${minors_to_run}"); do
            restore "${minor}"
            failed+=("${minor}")
        done
    fi
fi

echo "== make constraints (${MINORS}) finished in $((SECONDS - started))s"
if ((${#failed[@]})); then
    echo "== not refreshed, their suites failed: ${failed[*]}" >&2
    exit 1
fi
git --no-pager diff --stat -- constraints/ || true
