"""Hand-written behavioural mutants (mutation/behavioural.toml): each must turn one of its tests red.

    python scripts/behavioural_mutants.py            # every mutant (make behavioural-mutants; CI)
    python scripts/behavioural_mutants.py --list     # name, file and tests of each
    python scripts/behavioural_mutants.py NAME...    # only the mutants whose name contains NAME

The package and the tests are copied into a temporary directory once; each mutant is applied to
that copy, its tests run there (``-x -q -p no:randomly``, the copy first on ``PYTHONPATH``), and
the file is put back. The working tree is never written to, so an interrupted run leaves nothing.

A mutant is *killed* when pytest exits 1 (a test failed). Anything else is a failure of this
check: exit 0 (it *survived*: no test noticed), another exit code or a timeout (*broken*: the
mutant made the tests unrunnable, which proves nothing), or its ``old`` text not found exactly
once (*stale*: a refactor moved the decision, and the mutant must follow it). The unmutated copy
runs every mutant's tests first: they must pass, or no verdict would mean anything.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LISTING = ROOT / "mutation" / "behavioural.toml"
#: What the tests need of the repository: the package, the tests and their configuration.
COPIED = ("airflow_provider_cloudos", "tests", "example_dags", "pyproject.toml")
PYTEST_ARGS = ("-x", "-q", "-p", "no:randomly", "-p", "no:cacheprovider")
#: Wall-clock limit of one mutant's tests; a hang proves nothing about the mutant (broken).
TIMEOUT_SECONDS = 300


@dataclass(frozen=True)
class Mutant:
    name: str
    file: str
    old: str
    new: str
    why: str
    tests: tuple[str, ...]
    #: Environment variables for its tests (a test helper's limit shortened for the mutant).
    env: dict[str, str]

    def test_files(self) -> list[str]:
        return sorted({test.split("::")[0] for test in self.tests})


def load(path: Path = LISTING) -> list[Mutant]:
    with path.open("rb") as handle:
        entries = tomllib.load(handle)["mutant"]
    return [
        Mutant(
            name=entry["name"],
            file=entry["file"],
            old=entry["old"],
            new=entry["new"],
            why=entry["why"],
            tests=tuple(entry["tests"]),
            env={str(key): str(value) for key, value in entry.get("env", {}).items()},
        )
        for entry in entries
    ]


def problems(mutants: list[Mutant], root: Path = ROOT) -> list[str]:
    """What makes the listing unusable: an ``old`` text not found exactly once, a test file that is
    gone, a mutant that changes nothing, a name used twice."""
    found = []
    names = [mutant.name for mutant in mutants]
    for mutant in mutants:
        label = f"{mutant.name!r}"
        if names.count(mutant.name) > 1:
            found.append(f"{label}: the name is used twice")
        source = root / mutant.file
        if not source.is_file():
            found.append(f"{label}: {mutant.file} does not exist")
            continue
        count = source.read_text(encoding="utf-8").count(mutant.old)
        if count != 1:
            found.append(f"{label}: its old text occurs {count} times in {mutant.file} (must be once)")
        if mutant.old == mutant.new:
            found.append(f"{label}: new is the same as old")
        if not mutant.tests:
            found.append(f"{label}: no tests named")
        for test_file in mutant.test_files():
            if not (root / test_file).exists():
                found.append(f"{label}: test path {test_file} does not exist")
    return found


def _copy_tree(target: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache")
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=ignore)
        else:
            shutil.copy2(source, target / name)


def _environment(copy: Path) -> dict[str, str]:
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(copy), environment.get("PYTHONPATH")]))
    environment["PYTHONDONTWRITEBYTECODE"] = "1"
    return environment


def _check_the_copy_is_imported(copy: Path, environment: dict[str, str]) -> None:
    """The editable install points at the working tree: the copy must win, or every mutant survives."""
    imported = subprocess.run(
        [sys.executable, "-c", "import airflow_provider_cloudos as p; print(p.__file__)"],
        cwd=copy,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if not Path(imported).resolve().is_relative_to(copy.resolve()):
        raise SystemExit(f"the tests would import {imported}, not the mutated copy in {copy}")


def _pytest(copy: Path, environment: dict[str, str], tests: list[str]) -> tuple[int | None, str, float]:
    """(exit code, or None on a timeout; pytest's output; seconds)."""
    started = time.monotonic()
    try:
        run = subprocess.run(
            [sys.executable, "-m", "pytest", *PYTEST_ARGS, *tests],
            cwd=copy,
            env=environment,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_SECONDS,
        )
    except subprocess.TimeoutExpired:
        return None, f"(no result within {TIMEOUT_SECONDS}s)", time.monotonic() - started
    return run.returncode, (run.stdout + run.stderr).strip(), time.monotonic() - started


def _tail(output: str, lines: int = 15) -> str:
    return "\n".join(output.splitlines()[-lines:])


def _failed_test(output: str) -> str:
    """The failed test and the first line of what it said, to judge a kill by (not by a fluke)."""
    lines = output.splitlines()
    failed = next((line for line in lines if line.startswith(("FAILED ", "ERROR "))), "(a test failed)")
    said = next((line[1:].strip() for line in lines if line.startswith("E ")), "")
    return f"{failed.split(' - ')[0].removeprefix('FAILED ')}: {said[:200]}"


def run(mutants: list[Mutant]) -> int:
    started = time.monotonic()
    stale = problems(mutants)
    if stale:
        print("The listing no longer matches the code:", *stale, sep="\n  ")
        return 1
    failures = []
    with tempfile.TemporaryDirectory(prefix="cloudos-behavioural-mutants-") as temporary:
        copy = Path(temporary)
        _copy_tree(copy)
        environment = _environment(copy)
        _check_the_copy_is_imported(copy, environment)
        every_test = sorted({test for mutant in mutants for test in mutant.tests})
        code, output, seconds = _pytest(copy, environment, every_test)
        print(f"== unmutated: exit {code} in {seconds:.0f}s")
        if code != 0:
            print(_tail(output, 40))
            print("The tests fail without any mutant: no verdict would mean anything.")
            return 1
        for number, mutant in enumerate(mutants, 1):
            source = copy / mutant.file
            original = source.read_text(encoding="utf-8")
            source.write_text(original.replace(mutant.old, mutant.new, 1), encoding="utf-8")
            try:
                code, output, seconds = _pytest(copy, {**environment, **mutant.env}, list(mutant.tests))
            finally:
                source.write_text(original, encoding="utf-8")
            if code == 1:
                verdict = f"killed by {_failed_test(output)}"
            elif code == 0:
                verdict = "SURVIVED: no test noticed"
            else:
                verdict = f"BROKEN: pytest exit {code} (the tests could not run: proves nothing)"
            print(f"{number:2d}. {mutant.name}: {verdict} ({seconds:.0f}s)")
            if code != 1:
                failures.append(mutant.name)
                print(f"    {mutant.file}: {mutant.why}".replace("\n", " "))
                print("    " + _tail(output).replace("\n", "\n    "))
    minutes = (time.monotonic() - started) / 60
    if failures:
        print(f"== {len(failures)} of {len(mutants)} mutants not killed ({minutes:.1f} min): {failures}")
        return 1
    print(f"== all {len(mutants)} behavioural mutants killed ({minutes:.1f} min)")
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("names", nargs="*", help="only the mutants whose name contains one of these")
    parser.add_argument("--list", action="store_true", help="list the mutants and their tests")
    arguments = parser.parse_args(argv)
    mutants = load()
    if arguments.names:
        mutants = [m for m in mutants if any(part in m.name for part in arguments.names)]
        if not mutants:
            parser.error("no mutant's name contains " + ", ".join(arguments.names))
    if arguments.list:
        for mutant in mutants:
            print(f"- {mutant.name}\n  {mutant.file}\n  tests: {', '.join(mutant.tests)}")
        return 0
    return run(mutants)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
