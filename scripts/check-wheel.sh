#!/usr/bin/env bash
# The built wheel, as a user installs it: into a clean virtual environment next to Airflow 3,
# then `airflow providers list` must show the provider (found through its entry point, with the
# version the wheel carries) and its hook must import from the installed files, not the checkout.
#
#   make check-wheel        (builds dist/ first with `make dist`)
#
# PYTHON picks the interpreter (default python3); VENV the environment (default .venv-wheel, which
# git ignores; rebuilt on every run). It is installed the way the README tells users to: pip, the
# wheel and `apache-airflow==3.3.2` through the lock constraints/airflow-3.3.txt; every distribution
# it then holds must be at the lock's version (a subset: the lock also holds the test tools).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
VENV="${VENV:-.venv-wheel}"
LOCK="constraints/airflow-3.3.txt"
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
airflow_requirement="$(grep '^apache-airflow==' "${LOCK}")"

echo "== clean virtual environment ${VENV}: ${wheel} next to ${airflow_requirement}, through ${LOCK}"
rm -rf "${VENV}"
# No seeded pip or setuptools: pip itself comes through the lock, like everything else.
"${PYTHON}" -m venv --without-pip "${VENV}"
install_log="${VENV}/pip-install.log"
if ! {
    "${PYTHON}" -m pip --python "${VENV}/bin/python" install --quiet -c "${LOCK}" pip &&
        "${VENV}/bin/python" -m pip install --no-compile -c "${LOCK}" "${wheel}" "${airflow_requirement}"
} >"${install_log}" 2>&1; then
    tail -n 40 "${install_log}"
    echo "== installing the wheel next to Airflow failed (full log: ${install_log})" >&2
    exit 1
fi
"${VENV}/bin/python" scripts/lock.py check --subset "${LOCK}"
echo "== installed in $((SECONDS - started))s"

# What the files carry: the licence and notice in both, and only user-facing extras (the development
# tools are dependency groups, which never reach an index).
"${PYTHON}" - "${wheel}" dist/airflow_provider_cloudos-*.tar.gz <<'PY'
import sys
import tarfile
import zipfile
from email.parser import Parser

wheel, sdist = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as archive:
    names = archive.namelist()
    metadata = Parser().parsestr(archive.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode())
for wanted in ("LICENSE", "NOTICE"):
    assert any(n.endswith(f".dist-info/licenses/{wanted}") for n in names), f"{wanted} is not in {wheel}"
with tarfile.open(sdist) as archive:
    members = {m.name.split("/", 1)[-1] for m in archive.getmembers()}
assert {"LICENSE", "NOTICE"} <= members, f"LICENSE or NOTICE is not in {sdist}"
extras = sorted(metadata.get_all("Provides-Extra") or [])
assert extras == ["openlineage"], f"published extras must be only what users install, found {extras}"
print(f"== {wheel} and the sdist carry LICENSE and NOTICE; published extras: {', '.join(extras)}")
PY
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
