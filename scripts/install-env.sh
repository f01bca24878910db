#!/usr/bin/env bash
# A fresh environment for one tested Airflow, installed from its lock and checked against it:
#
#   scripts/install-env.sh MINOR [VENV]     e.g. scripts/install-env.sh 3.3 .venv  (make install)
#
# What each environment holds, and where, is in scripts/environments.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/environments.sh
source scripts/environments.sh
minor=${1:?usage: scripts/install-env.sh MINOR [VENV]}
venv=${2:-$(env_venv "${minor}")}
started=$SECONDS
echo "== ${venv}: Airflow $(env_airflow "${minor}") and the provider from $(env_lock "${minor}")"
install_env "${minor}" "$(env_lock "${minor}")" "${venv}"
check_env "${minor}" "${venv}"
echo "== ${venv} installed in $((SECONDS - started))s"
