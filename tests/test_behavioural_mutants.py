"""mutation/behavioural.toml, the hand-written mutants CI runs (scripts/behavioural_mutants.py).

Each mutant names its decision by exact text. A refactor that moves or rewords that text would
make the mutant apply to nothing; this fast check fails first, so the mutant is moved with it.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def runner() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "behavioural_mutants", REPO / "scripts" / "behavioural_mutants.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks its module up while it is defined
    spec.loader.exec_module(module)
    return module


def test_every_mutant_still_finds_its_decision_once_and_names_tests_that_exist(runner: ModuleType) -> None:
    mutants = runner.load()
    assert len(mutants) >= 8
    assert runner.problems(mutants) == []


def test_a_mutant_whose_text_moved_or_is_ambiguous_is_reported(runner: ModuleType, tmp_path: Path) -> None:
    source = tmp_path / "module.py"
    source.write_text("x = min(a, b)\ny = min(a, b)\n", encoding="utf-8")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_module.py").write_text("", encoding="utf-8")
    mutant = runner.Mutant(
        name="min for max",
        file="module.py",
        old="min(a, b)",
        new="max(a, b)",
        why="",
        tests=("tests/test_module.py::test_x",),
        env={},
    )
    moved = dataclasses.replace(mutant, name="moved", old="z = 1\n", tests=("tests/gone.py",))
    found = runner.problems([mutant, moved], root=tmp_path)
    assert found == [
        "'min for max': its old text occurs 2 times in module.py (must be once)",
        "'moved': its old text occurs 0 times in module.py (must be once)",
        "'moved': test path tests/gone.py does not exist",
    ]
