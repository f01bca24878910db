# shellcheck shell=bash
# The tested environments, in one place: which Airflow each one is, where it lives, what it
# installs, and how. Sourced by the Makefile's install, scripts/test-airflow2.sh,
# scripts/test-airflow-minors.sh, scripts/check-wheel.sh and scripts/refresh-constraints.sh.
#
# Every environment installs through its lock, constraints/airflow-<minor>.txt, which pins every
# distribution it holds: nothing is resolved afresh. Only `make constraints` re-resolves, from the
# deliberate pins in constraints/pins/airflow-<minor>.txt. The installer is uv (pinned below, from
# PyPI into .venv-uv): it installs an environment from a lock in seconds where pip takes minutes.

ENVIRONMENTS="3.3 2.11 3.0 3.1 3.2"
UV_VERSION="0.13.9"
UV_VENV=".venv-uv"
UV="${UV_VENV}/bin/uv"
BUILD_CONSTRAINTS="constraints/build.txt"

# The environment's folder: .venv is the newest Airflow, the one `make test` uses.
env_venv() {
    case "$1" in
        3.3) echo ".venv" ;;
        2.11) echo ".venv-airflow2" ;;
        *) echo ".venv-$1" ;;
    esac
}

env_lock() { echo "constraints/airflow-$1.txt"; }
env_pins() { echo "constraints/pins/airflow-$1.txt"; }

# The Airflow release an environment's pins name ("apache-airflow==3.1.8" → 3.1.8).
env_airflow() {
    sed -n 's/^apache-airflow==\([0-9.]*\)$/\1/p' "$(env_pins "$1")"
}

# What an environment asks for (the lock decides every version). pip is in each, so
# `VENV/bin/python -m pip` works there too. 3.3 carries every development group (the browser,
# deployment, mutation and docs tools run there); 3.0's API server builds the connection form's fields
# only when WTForms imports (3.1 mocks it when missing; 3.2+ reads the provider info instead).
env_requirements() {
    local minor=$1 airflow
    airflow=$(env_airflow "${minor}")
    case "${minor}" in
        3.3) echo "pip -e . --group test --group browser --group deployment --group mutation --group docs apache-airflow==${airflow}" ;;
        3.0) echo "pip -e . --group test wtforms apache-airflow==${airflow}" ;;
        *) echo "pip -e . --group test apache-airflow==${airflow}" ;;
    esac
}

# uv itself, pinned, in its own environment.
ensure_uv() {
    if ! "${UV}" --version 2>/dev/null | grep -q "^uv ${UV_VERSION}\b"; then
        rm -rf "${UV_VENV}"
        "${PYTHON:-python3}" -m venv "${UV_VENV}"
        "${UV_VENV}/bin/python" -m pip install --quiet --disable-pip-version-check "uv==${UV_VERSION}"
    fi
}

# install_env MINOR CONSTRAINTS VENV: a fresh VENV holding what MINOR asks for, through CONSTRAINTS
# (the lock, or the pins file when `make constraints` resolves afresh). Quiet; its output goes to
# VENV/install.log, printed when it fails.
install_env() {
    local minor=$1 constraints=$2 venv=$3 log
    ensure_uv
    rm -rf "${venv}"
    log="$(mktemp)"
    # shellcheck disable=SC2046  # the requirements are a word list
    if ! {
        "${UV}" venv --quiet --python "${PYTHON:-python3}" "${venv}" &&
            "${UV}" pip install --python "${venv}/bin/python" --constraints "${constraints}" \
                --build-constraints "${BUILD_CONSTRAINTS}" $(env_requirements "${minor}")
    } >"${log}" 2>&1; then
        tail -n 40 "${log}" >&2
        echo "== installing the Airflow ${minor} environment ${venv} from ${constraints} FAILED" >&2
        rm -f "${log}"
        return 1
    fi
    mv "${log}" "${venv}/install.log"
}

# check_env MINOR [VENV]: what VENV holds equals MINOR's lock (printed either way; fails if not).
check_env() {
    local minor=$1 venv=${2:-$(env_venv "$1")}
    "${venv}/bin/python" scripts/lock.py check "$(env_lock "${minor}")"
}
