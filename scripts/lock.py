"""Write and check the locked constraints files under ``constraints/``.

Run with the Python of the environment in question (it reads that environment's installed
distributions, as ``pip freeze --all`` does), standard library only:

    VENV/bin/python scripts/lock.py write MINOR PINS LOCK "REQUIREMENTS"
    VENV/bin/python scripts/lock.py check LOCK [--subset]

``write`` turns a freshly resolved environment into a lock: a header saying how and when it was made,
the deliberate pins of ``PINS`` with their reasons (at the versions installed), then every other
distribution the environment holds. ``check`` compares the environment with a lock and fails on any
difference; ``--subset`` accepts an environment that holds only part of the lock (a user's install
of the provider next to Airflow, without the development tools), at the locked versions.

The project itself is left out of both: it is the thing under test, not a dependency.
"""

from __future__ import annotations

import argparse
import datetime
import platform
import re
import sys
from importlib.metadata import distributions
from pathlib import Path

PROJECT = "airflow-provider-cloudos"
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*([^\s;#]+)")


def normalize(name: str) -> str:
    """PEP 503's name normalisation: ``Flask_AppBuilder`` and ``flask-appbuilder`` are one distribution."""
    return re.sub(r"[-_.]+", "-", name).lower()


def installed() -> dict[str, tuple[str, str]]:
    """Every distribution of the running environment but the project: normalized name → (name, version)."""
    found: dict[str, tuple[str, str]] = {}
    for dist in distributions():
        name = dist.metadata["Name"]
        if not name or normalize(name) == PROJECT:
            continue
        found[normalize(name)] = (name, dist.version)
    return found


def read_pins(path: Path) -> dict[str, str]:
    """The ``name==version`` lines of a constraints file: normalized name → version."""
    pins: dict[str, str] = {}
    for line in path.read_text().splitlines():
        match = _PIN.match(line.strip())
        if match:
            pins[normalize(match.group(1))] = match.group(2)
    return pins


def _explained_section(pins_path: Path, env: dict[str, tuple[str, str]]) -> tuple[list[str], set[str]]:
    """The pins file's body with each pin at its installed version (it must be installed)."""
    lines: list[str] = []
    pinned: set[str] = set()
    in_header = True
    for line in pins_path.read_text().splitlines():
        if in_header:
            if line.strip() == "":
                in_header = False
            continue
        match = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(==|<|<=|>=|~=|!=)", line.strip())
        if match:
            key = normalize(match.group(1))
            if key not in env:
                missing = match.group(1)
                raise SystemExit(f"{pins_path}: {missing} is pinned but the environment does not hold it")
            name, version = env[key]
            pinned.add(key)
            lines.append(f"{name}=={version}")
        else:
            lines.append(line)
    return lines, pinned


def write(minor: str, pins_path: Path, lock_path: Path, requirements: str) -> None:
    env = installed()
    explained, pinned = _explained_section(pins_path, env)
    airflow = env.get("apache-airflow", ("apache-airflow", "?"))[1]
    today = datetime.datetime.now(datetime.UTC).date().isoformat()
    header = [
        f"# Airflow {minor} ({airflow}) next to airflow-provider-cloudos: the locked, tested environment.",
        "# Every distribution the environment holds is pinned here, as in Airflow's own constraints files;",
        "# installing through this file never resolves anything afresh.",
        f"# Made on {today} by `make constraints AIRFLOW={minor}` (scripts/refresh-constraints.sh) with",
        f"# CPython {platform.python_version()} on {platform.system()} {platform.machine()}:",
        "# a fresh resolve of",
        f"#     {requirements}",
        f"# under the deliberate pins of {pins_path} (repeated below with their",
        "# reasons), kept only because the environment's suite then passed installed from this file.",
        f'# Use: pip install -c {lock_path} dist/airflow_provider_cloudos-*.whl "apache-airflow=={airflow}"',
        "# (after `make dist`; once the package is on PyPI, its name instead of the wheel's path)",
        "",
        f"# == the deliberate pins ({pins_path}) ==",
    ]
    rest = [f"{name}=={version}" for key, (name, version) in sorted(env.items()) if key not in pinned]
    rest_header = "# == everything else the environment installs, as resolved that day =="
    body = [*header, *explained, "", rest_header, *rest]
    lock_path.write_text("\n".join(body) + "\n")
    print(f"== {lock_path}: {len(env)} distributions locked ({len(pinned)} of them deliberate pins)")


def check(lock_path: Path, subset: bool) -> int:
    """Print whether the environment equals the lock (or, with ``subset``, lies inside it)."""
    locked = read_pins(lock_path)
    env = installed()
    differences: list[str] = []
    for key, (name, version) in sorted(env.items()):
        if key not in locked:
            differences.append(f"  {name}=={version} is installed but not in the lock")
        elif locked[key] != version:
            differences.append(f"  {name}=={version} is installed, the lock says {locked[key]}")
    missing = sorted(set(locked) - set(env))
    if not subset:
        differences.extend(f"  {key}=={locked[key]} is in the lock but not installed" for key in missing)
    prefix = f"{sys.prefix}"
    if differences:
        print(f"== {prefix} does NOT match {lock_path}:", file=sys.stderr)
        print("\n".join(differences), file=sys.stderr)
        return 1
    if subset:
        print(f"== {prefix}: all {len(env)} installed distributions are at {lock_path}'s versions")
    else:
        print(f"== {prefix} equals {lock_path}: {len(env)} distributions, each at its locked version")
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    verbs = parser.add_subparsers(dest="verb", required=True)
    writer = verbs.add_parser("write", help="lock the running environment")
    writer.add_argument("minor")
    writer.add_argument("pins", type=Path)
    writer.add_argument("lock", type=Path)
    writer.add_argument("requirements", help="what the environment asked for, as one string")
    checker = verbs.add_parser("check", help="compare the running environment with a lock")
    checker.add_argument("lock", type=Path)
    checker.add_argument("--subset", action="store_true")
    args = parser.parse_args(argv)
    if args.verb == "write":
        write(args.minor, args.pins, args.lock, args.requirements)
        return 0
    return check(args.lock, args.subset)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
