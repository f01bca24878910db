#!/usr/bin/env bash
# The browser test: Airflow 3's web UI in a headless Chromium (connection form, Test button,
# the "CloudOS Session" link) against a real api-server, scheduler, dag-processor and triggerer
# and the local CloudOS simulator, on loopback.
# Installs Debian's chromium when missing (apt-get, as root); Playwright comes with .venv (the
# `browser` dependency group, through the lock). Playwright drives the system
# browser; it never downloads one. CLOUDOS_SCREENSHOTS_DIR=DIR also copies the screenshots there.
# Usage: scripts/browser-test.sh [extra pytest arguments]   (after `make install`)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"
export CLOUDOS_BROWSER="${CLOUDOS_BROWSER:-/usr/bin/chromium}"

if [ ! -x "${CLOUDOS_BROWSER}" ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "no Chromium at ${CLOUDOS_BROWSER}: install it (apt-get install chromium) or run as root" >&2
        exit 1
    fi
    echo "== apt-get install chromium"
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=600 update -qq
    apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends chromium fonts-liberation >/dev/null
fi
if ! "${PYTHON}" -c "import playwright.sync_api" 2>/dev/null; then
    echo "Playwright is missing from ${PYTHON}: \`make install\` builds .venv with it (the browser group)" >&2
    exit 1
fi
echo "== browser test ($("${CLOUDOS_BROWSER}" --version 2>/dev/null | head -n1), Playwright $("${PYTHON}" -c 'import importlib.metadata as m; print(m.version("playwright"))'))"
# Here a missing browser or Playwright fails the run instead of skipping the tests.
export CLOUDOS_BROWSER_TEST_REQUIRED=1
exec "${PYTHON}" -m pytest -m browser tests/e2e/test_browser_ui.py -p no:cacheprovider -q "$@"
