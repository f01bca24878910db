#!/usr/bin/env bash
# The production-shaped deployment test: PostgreSQL, Redis, two Celery workers, two triggerers, the
# api-server, the scheduler and the dag-processor of Airflow 3, with crashes (tests/deployment).
#
#   scripts/deployment-test.sh            # the reduced soak CI runs (a dozen runs, a few minutes)
#   SCALE=full scripts/deployment-test.sh # the full soak (`make soak`)
#
# Needs Debian's postgresql and redis-server packages: installed here with apt-get when missing
# (which needs root, as on CI). Python packages come with .venv (the `deployment`
# dependency group, through the lock).
# Everything runs on 127.0.0.1 in a temporary directory that is removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"
SCALE="${SCALE:-ci}"

if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || ! command -v redis-server >/dev/null; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "PostgreSQL and Redis servers are missing: run 'apt-get install postgresql redis-server' as root" >&2
        exit 1
    fi
    echo "== installing Debian's postgresql and redis-server"
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=600 update -qq
    apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends postgresql redis-server >/dev/null
fi
echo "== $(ls -d /usr/lib/postgresql/*/bin | tail -n 1)/postgres, $(redis-server --version | cut -d' ' -f1-3)"
echo "== Airflow $("${PYTHON}" -c 'import airflow; print(airflow.__version__)') with CeleryExecutor, soak scale: ${SCALE}"
CLOUDOS_DEPLOYMENT_TEST=1 CLOUDOS_SOAK_SCALE="${SCALE}" exec "${PYTHON}" -m pytest tests/deployment \
    -p no:cacheprovider -q -s "$@"
