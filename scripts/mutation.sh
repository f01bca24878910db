#!/usr/bin/env bash
# make mutation: mutation testing of core/, client/, operators/ and triggers/ with mutmut, then
# mutation/results.json and TESTING.md. Not part of CI: it takes hours on 2 cores.
#
#   MUTATION_JOBS=2        parallel mutant workers (default 2; the machine is shared)
#   MUTATION_ONLY=money    stop after the money-deciding modules
#
# Stages run the money-deciding modules first (scripts/mutation_report.py stages); mutmut keeps
# its verdicts in mutants/, so an interrupted run resumes where it stopped and a stage already
# done costs nothing. `rm -rf mutants` starts over (needed after the code changed much).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-.venv/bin/python}"
JOBS="${MUTATION_JOBS:-2}"

"${PYTHON}" -m pip install --quiet -e ".[test,mutation]"

scope=all
if [ "${MUTATION_ONLY:-}" = "money" ]; then
    scope=money
fi
stages=$("${PYTHON}" scripts/mutation_report.py stages "${scope}")

for pattern in ${stages}; do
    echo "== mutmut run ${pattern}"
    # A non-zero exit (survivors, or an interrupted stage) must not stop the report.
    "${PYTHON}" -m mutmut run --max-children "${JOBS}" "${pattern}" || echo "   (mutmut exited with $?)"
done

"${PYTHON}" scripts/mutation_report.py collect
"${PYTHON}" scripts/mutation_report.py render
