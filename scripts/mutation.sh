#!/usr/bin/env bash
# make mutation: mutation testing of core/, client/, operators/ and triggers/ with mutmut, then
# mutation/results.json and TESTING.md. Not part of CI: it takes hours on 2 cores.
#
#   MUTATION_JOBS=2        parallel mutant workers (default 2; the machine is shared)
#   MUTATION_ONLY=money    stop after the money-deciding modules
#
# Stages run the money-deciding modules first (scripts/mutation_report.py stages); each stage
# runs the mutants of its modules that have no verdict yet, so an interrupted run carries on where
# it stopped. mutmut keeps its verdicts in mutants/ and drops those of a function that changed
# (`rm -rf mutants` starts over); `scripts/mutation_report.py collect` and `render` report
# whatever was measured.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-.venv/bin/python}"
JOBS="${MUTATION_JOBS:-2}"

scope=all
if [ "${MUTATION_ONLY:-}" = "money" ]; then
    scope=money
fi
stages=$("${PYTHON}" scripts/mutation_report.py stages "${scope}")

# First pass: mutmut makes the mutants and runs the suite once to learn which tests reach which
# function (a pattern that names no mutant runs nothing more). Then that map is narrowed to the
# tests of each module (scripts/mutation_report.py, MODULE_TESTS).
echo "== mutmut: mutants and the map of covering tests"
"${PYTHON}" -m mutmut run --max-children "${JOBS}" "no.mutant.is.named.like.this" || true
rm -f mutants/mutmut-stats.full.json

for pattern in ${stages}; do
    echo "== mutmut run ${pattern}"
    # Again before each stage: tests added since the last stage are mapped by mutmut's own run.
    "${PYTHON}" scripts/mutation_report.py select
    # By name: given the pattern itself, mutmut would run every mutant it matches again.
    mapfile -t unchecked < <("${PYTHON}" scripts/mutation_report.py pending "${pattern}")
    if [ "${#unchecked[@]}" -eq 0 ]; then
        echo "   every mutant has a verdict"
        continue
    fi
    # A non-zero exit (survivors, or an interrupted stage) must not stop the report.
    "${PYTHON}" -m mutmut run --max-children "${JOBS}" "${unchecked[@]}" || echo "   (mutmut exited with $?)"
done

"${PYTHON}" scripts/mutation_report.py collect
"${PYTHON}" scripts/mutation_report.py render
