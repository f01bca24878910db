"""scripts/lock.py: a lock written from an environment equals it, and any difference is named.

CI trusts this check to say that what it tested is what the lock pins, so it must fail on a wrong
version, on a distribution the lock lacks, and on one the lock has that is not installed.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def lock() -> ModuleType:
    spec = importlib.util.spec_from_file_location("lock_script", REPO / "scripts" / "lock.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def written(lock: ModuleType, tmp_path: Path) -> Path:
    pins = tmp_path / "pins.txt"
    pins.write_text("# header\n# of the pins file\n\n# why pytest is pinned\npytest==0\n")
    target = tmp_path / "lock.txt"
    lock.write("9.9", pins, target, "pip -e . --group test")
    return target


def test_a_lock_written_from_the_environment_equals_it(lock: ModuleType, written: Path, capsys) -> None:
    assert lock.check(written, subset=False) == 0
    assert "equals" in capsys.readouterr().out
    text = written.read_text()
    assert "# why pytest is pinned\npytest==" in text  # the reason stays beside its pin
    assert "airflow-provider-cloudos" not in text.lower().split("# == everything else")[1]


def test_a_wrong_version_is_named(lock: ModuleType, written: Path, capsys) -> None:
    written.write_text(re.sub(r"(?m)^pytest==\S+$", "pytest==0.0.1", written.read_text()))
    assert lock.check(written, subset=False) == 1
    assert "is installed, the lock says 0.0.1" in capsys.readouterr().err


def test_a_distribution_missing_from_the_lock_is_named(lock: ModuleType, written: Path, capsys) -> None:
    lines = [line for line in written.read_text().splitlines() if not line.lower().startswith("pluggy==")]
    written.write_text("\n".join(lines) + "\n")
    assert lock.check(written, subset=False) == 1
    assert "is installed but not in the lock" in capsys.readouterr().err


def test_a_pin_not_installed_fails_the_equality_but_not_the_subset_check(
    lock: ModuleType, written: Path, capsys
) -> None:
    written.write_text(written.read_text() + "no-such-distribution==1.0\n")
    assert lock.check(written, subset=False) == 1
    assert "no-such-distribution==1.0 is in the lock but not installed" in capsys.readouterr().err
    assert lock.check(written, subset=True) == 0


def test_a_pin_the_environment_lacks_cannot_be_written(lock: ModuleType, tmp_path: Path) -> None:
    pins = tmp_path / "pins.txt"
    pins.write_text("# header\n\nno-such-distribution==1.0\n")
    with pytest.raises(SystemExit, match="no-such-distribution is pinned but the environment does not"):
        lock.write("9.9", pins, tmp_path / "lock.txt", "pip")
