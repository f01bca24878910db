"""scripts/mutation_report.py: which survivors a judgement in mutation/harmless.json covers.

mutmut numbers a function's mutants afresh whenever the function changes, so a judgement kept by
number alone would silently cover another mutant that took the number. A judgement with its change
covers exactly the survivor that makes that change, whatever its number.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[1]
FUNCTION = "airflow_provider_cloudos.operators.cloudos_task.xǁBaseǁ_wait__mutmut_"


def diff(old: str, new: str) -> str:
    return f"--- a.py\n+++ a.py\n@@ -1,3 +1,3 @@\n context\n-    {old}\n+    {new}\n context\n"


@pytest.fixture(scope="module")
def report() -> ModuleType:
    spec = importlib.util.spec_from_file_location("mutation_report", REPO / "scripts" / "mutation_report.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_a_judgement_follows_its_change_to_a_new_number_and_never_covers_another_mutant(
    report: ModuleType,
) -> None:
    judged_change = report.change_of(diff("x = None", 'x = ""'))
    harmless = {f"{FUNCTION}14": {"why": "reads the same", "change": judged_change}}
    survivors = {
        f"{FUNCTION}14": {"diff": diff("y = a - b", "y = a + b")},  # took the number: not judged
        f"{FUNCTION}19": {"diff": diff("x = None", 'x = ""')},  # the judged change, renumbered
    }
    judged, used = report.match_judgements(survivors, harmless)
    assert judged == {f"{FUNCTION}19": "reads the same"}
    assert used == {f"{FUNCTION}14"}


def test_a_change_judged_in_another_function_covers_nothing(report: ModuleType) -> None:
    change = report.change_of(diff("x = None", 'x = ""'))
    harmless = {"pkg.mod.x_other__mutmut_1": {"why": "elsewhere", "change": change}}
    judged, used = report.match_judgements({f"{FUNCTION}1": {"diff": diff("x = None", 'x = ""')}}, harmless)
    assert judged == {}
    assert used == set()


def test_every_judgement_in_the_repository_names_its_change(report: ModuleType) -> None:
    harmless = json.loads((REPO / "mutation" / "harmless.json").read_text(encoding="utf-8"))
    assert harmless
    for name, judgement in harmless.items():
        assert set(judgement) == {"why", "change"}, name
        assert judgement["why"].strip(), name
        assert any(line.startswith("-") for line in judgement["change"].splitlines()), name
