#!/usr/bin/env bash
# Run every benchmark and the reliability harness, then regenerate BENCHMARKS.md's tables.
#
#   bench/run_all.sh            # the published sizes (about 15 minutes on 2 cores)
#   bench/run_all.sh --quick    # small sizes, to check that everything works
#
# Two bench-only virtual environments are made on first use, so that nothing here touches the
# project's own environment (.venv):
#   bench/.venv-official  the official client, cloudos-cli, for the import-cost comparison
#   bench/.venv-plot      matplotlib, for the memory plot (skipped if it cannot be installed)
# and bench.import_cost makes a third one itself (it reinstalls the provider's wheel every run):
#   bench/.venv-wheel     the provider installed from its wheel, with .venv's pinned dependencies
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-.venv/bin/python}"
BASE_PYTHON="$("${PYTHON}" -c 'import sys; print(sys._base_executable)')"

make_venv() {  # make_venv DIR PACKAGE
    local dir="$1" package="$2"
    if [ ! -x "${dir}/bin/python" ]; then
        echo "== creating ${dir} with ${package}"
        "${BASE_PYTHON}" -m venv "${dir}"
        if ! "${dir}/bin/python" -m pip install --quiet --disable-pip-version-check "${package}"; then
            echo "   could not install ${package}; the step that needs it will be skipped"
            rm -rf "${dir}"
        fi
    fi
}

make_venv bench/.venv-official cloudos-cli
make_venv bench/.venv-plot matplotlib

exec "${PYTHON}" -m bench all "$@"
