#!/usr/bin/env bash
# The built wheel, as a user installs it: into a clean virtual environment next to Airflow 3,
# then `airflow providers list` must show the provider (found through its entry point, with the
# version the wheel carries) and its hook must import from the installed files, not the checkout.
#
#   make check-wheel        (builds dist/ first with `make dist`)
#
# PYTHON picks the interpreter (default python3); VENV the environment (default .venv-wheel, which
# git ignores; rebuilt on every run). Airflow is pinned to the version in .venv when there is one,
# so pip's cache usually holds every wheel it needs.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
VENV="${VENV:-.venv-wheel}"
export PIP_DISABLE_PIP_VERSION_CHECK=1
export PYTHONDONTWRITEBYTECODE=1

started=$SECONDS
shopt -s nullglob
wheels=(dist/airflow_provider_cloudos-*.whl)
if [ "${#wheels[@]}" -ne 1 ]; then
    echo "== expected one wheel in dist/ (run make dist), found ${#wheels[@]}" >&2
    exit 1
fi
wheel="${wheels[0]}"
airflow_requirement="apache-airflow>=3,<4"
if [ -x .venv/bin/python ]; then
    pinned=$(.venv/bin/python -c 'import airflow; print(airflow.__version__)' 2>/dev/null || true)
    if [[ "${pinned}" == 3.* ]]; then
        airflow_requirement="apache-airflow==${pinned}"
    fi
fi

echo "== clean virtual environment ${VENV}: ${wheel} next to ${airflow_requirement}"
rm -rf "${VENV}"
"${PYTHON}" -m venv "${VENV}"
install_log="${VENV}/pip-install.log"
if ! "${VENV}/bin/python" -m pip install --no-compile "${wheel}" "${airflow_requirement}" >"${install_log}" 2>&1; then
    tail -n 40 "${install_log}"
    echo "== installing the wheel next to Airflow failed (full log: ${install_log})" >&2
    exit 1
fi
echo "== installed in $((SECONDS - started))s"
venv_bin="$(cd "${VENV}" && pwd)/bin"

home=$(mktemp -d "${TMPDIR:-/tmp}/cloudos-wheel-airflow-home-XXXXXX")
trap 'rm -rf "${home}"' EXIT
listed="${home}/providers.json"
# Run from the home folder, so that the checkout's sources cannot stand in for the wheel's.
(cd "${home}" && AIRFLOW_HOME="${home}" AIRFLOW__CORE__LOAD_EXAMPLES=False \
    "${venv_bin}/airflow" providers list --output json >"${listed}" 2>"${home}/stderr.log") || {
    cat "${home}/stderr.log" >&2
    echo "== airflow providers list failed" >&2
    exit 1
}
(cd "${home}" && "${venv_bin}/python" - "${listed}" "${wheel}") <<'PY'
import json
import sys
from pathlib import Path

import airflow_provider_cloudos
from airflow_provider_cloudos.hooks import CloudOSHook

listed_path, wheel = sys.argv[1], Path(sys.argv[2]).name
text = Path(listed_path).read_text()
providers = json.loads(text[text.index("[") :])
ours = [entry for entry in providers if entry.get("package_name") == "airflow-provider-cloudos"]
assert ours, f"airflow providers list does not show airflow-provider-cloudos: {providers}"
version = wheel.split("-")[1]
assert ours[0]["version"] == version, f"listed version {ours[0]['version']}, wheel {version}"
location = Path(airflow_provider_cloudos.__file__).resolve()
assert "site-packages" in location.parts, f"imported from {location}, not from the installed wheel"
assert CloudOSHook.conn_type == "cloudos"
print(f"== airflow providers list shows airflow-provider-cloudos {ours[0]['version']} (from {location.parent})")
PY
echo "== wheel check finished in $((SECONDS - started))s"
