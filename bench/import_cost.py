"""Benchmark 2: what importing the provider costs, and what parsing the example DAGs costs.

``python -m bench.import_cost [--repeats 25]``

Every measurement is a fresh interpreter (nothing cached in ``sys.modules``), repeated, and the
median is reported; bytecode is compiled by warm-up runs first, so the figures are what a
worker or the DAG processor pays on every start, not a first-ever import.

* ``core``: ``import airflow_provider_cloudos.core`` in a bare interpreter (and which of Airflow,
  the HTTP libraries, pandas and rich it loaded: its budget is none of them, and at least
  ``CORE_SPEEDUP_TARGET`` times faster than the official module);
* ``airflow.sdk``: Airflow's own import, the floor of any DAG file;
* ``hook`` and ``operators``: the extra time on top of an already imported ``airflow.sdk``;
* ``official``: ``import cloudos_cli.interactive_session.interactive_session`` in a separate,
  bench-only virtual environment (``bench/.venv-official``, made by ``bench/run_all.sh``);
* ``... (wheel install)``: core, ``airflow.sdk``, hook and operators again, from a wheel of this
  work tree installed into ``bench/.venv-wheel`` with the same pinned dependencies as ``.venv``.
  The project's ``.venv`` has the provider installed editable and the probes there run from the
  repository root, which users never do; users ``pip install`` the wheel, so the targets are
  judged on these figures. The wheel probes run from an empty directory with nothing of the
  repository on ``sys.path``, and check that the module came from the venv's ``site-packages``.

DAG parse times come from ``bench/dag_parse_time.py`` when it exists (it is another benchmark's
script), otherwise from a ``DagBag`` of each file in ``example_dags/``, in a fresh process each.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.common import BENCH_DIR, REPO_ROOT, bench_environment, median, percentile, write_result

OFFICIAL_PYTHON = BENCH_DIR / ".venv-official" / "bin" / "python"
OFFICIAL_MODULE = "cloudos_cli.interactive_session.interactive_session"
WHEEL_VENV = BENCH_DIR / ".venv-wheel"
WHEEL_PYTHON = WHEEL_VENV / "bin" / "python"
#: The dependency pins the wheel venv was made with; a different ``pip freeze`` of ``.venv`` remakes it.
WHEEL_PINS_STAMP = WHEEL_VENV / "bench-pins.txt"
DISTRIBUTION = "airflow-provider-cloudos"
#: What a wheel build needs from the work tree (copied, so the build never writes into the repo).
_WHEEL_SOURCES = ("pyproject.toml", "README.md", "LICENSE", "NOTICE", "MANIFEST.in", "setup.py", "setup.cfg")

#: Each probe prints {"seconds": <time of the measured import>, ...} as JSON.
_PROBE = """
import json, sys, time
for name in {before!r}:
    __import__(name)
started = time.perf_counter()
__import__({module!r})
seconds = time.perf_counter() - started
heavy = sorted({{name.split(".")[0] for name in sys.modules}} & {heavy!r})
print(json.dumps({{"seconds": seconds, "airflow_imported": "airflow" in sys.modules, "heavy_loaded": heavy,
                  "modules": len(sys.modules), "file": getattr(sys.modules[{module!r}], "__file__", None)}}))
"""

#: What the core's import budget forbids it to load (tests/core/test_core_package.py checks it too).
HEAVY_LIBRARIES = ("airflow", "requests", "aiohttp", "urllib3", "httpx", "pandas", "rich")
#: The budget's one timed figure: the core imports at least this many times faster than the official module.
CORE_SPEEDUP_TARGET = 10

SCENARIOS: dict[str, dict[str, Any]] = {
    "core": {"module": "airflow_provider_cloudos.core", "before": []},
    "client": {"module": "airflow_provider_cloudos.client.sync", "before": []},
    "airflow.sdk": {"module": "airflow.sdk", "before": []},
    "hook (above airflow.sdk)": {
        "module": "airflow_provider_cloudos.hooks.cloudos",
        "before": ["airflow.sdk"],
    },
    "operators (above airflow.sdk)": {
        "module": "airflow_provider_cloudos.operators.sessions",
        "before": ["airflow.sdk"],
    },
    "official interactive_session": {"module": OFFICIAL_MODULE, "before": [], "python": OFFICIAL_PYTHON},
    # The same as users get it: a regular (non-editable) install of the wheel, see the docstring.
    "core (wheel install)": {"module": "airflow_provider_cloudos.core", "before": [], "wheel": True},
    "airflow.sdk (wheel install)": {"module": "airflow.sdk", "before": [], "wheel": True},
    "hook (above airflow.sdk, wheel install)": {
        "module": "airflow_provider_cloudos.hooks.cloudos",
        "before": ["airflow.sdk"],
        "wheel": True,
    },
    "operators (above airflow.sdk, wheel install)": {
        "module": "airflow_provider_cloudos.operators.sessions",
        "before": ["airflow.sdk"],
        "wheel": True,
    },
    # Where the time goes (to explain a missed target): third-party and stdlib pieces alone.
    "why: dataclasses (stdlib, used by the core)": {"module": "dataclasses", "before": []},
    "why: core above the standard library it uses": {
        "module": "airflow_provider_cloudos.core",
        "before": [
            "collections.abc",
            "copy",
            "csv",
            "dataclasses",
            "datetime",
            "json",
            "math",
            "re",
            "typing",
            "urllib.parse",
        ],
    },
    "why: aiohttp (above airflow.sdk)": {"module": "aiohttp", "before": ["airflow.sdk"]},
    "why: requests (above airflow.sdk)": {"module": "requests", "before": ["airflow.sdk"]},
    "why: airflow.triggers.base (above airflow.sdk)": {
        "module": "airflow.triggers.base",
        "before": ["airflow.sdk"],
    },
}


_OUTSIDE_REPO: str | None = None


def _outside_repo() -> str:
    """An empty working directory, so ``sys.path[0]`` of a wheel probe holds nothing of the repo."""
    global _OUTSIDE_REPO
    if _OUTSIDE_REPO is None:
        _OUTSIDE_REPO = tempfile.mkdtemp(prefix="cloudos-bench-import-cwd-")
    return _OUTSIDE_REPO


def _wheel_environment() -> dict[str, str]:
    """The bench environment without the work tree on ``PYTHONPATH``."""
    env = bench_environment()
    kept = [
        entry for entry in env.get("PYTHONPATH", "").split(os.pathsep) if entry and entry != str(REPO_ROOT)
    ]
    if kept:
        env["PYTHONPATH"] = os.pathsep.join(kept)
    else:
        env.pop("PYTHONPATH", None)
    return env


def _probe(python: Path | str, module: str, before: list[str], *, wheel: bool = False) -> dict[str, Any]:
    code = _PROBE.format(module=module, before=before, heavy=set(HEAVY_LIBRARIES))
    completed = subprocess.run(
        [str(python), "-c", code],
        capture_output=True,
        text=True,
        cwd=_outside_repo() if wheel else REPO_ROOT,
        env=_wheel_environment() if wheel else bench_environment(),
        check=True,
    )
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    if (
        wheel
        and module.startswith("airflow_provider_cloudos")
        and not str(result["file"]).startswith(str(WHEEL_VENV))
    ):
        raise RuntimeError(f"{module} was imported from {result['file']}, not from the wheel in {WHEEL_VENV}")
    return result


def _run_quietly(args: list[str | Path]) -> str:
    """Run a setup command (venv, pip); its error output becomes the skip reason if it fails."""
    completed = subprocess.run([str(arg) for arg in args], capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        command = " ".join(str(arg) for arg in args)
        raise RuntimeError(f"{command} exited {completed.returncode}: {completed.stderr.strip()[-2000:]}")
    return completed.stdout


def _dependency_pins() -> str:
    """``.venv``'s exact versions (pip, setuptools too), minus the provider itself."""
    frozen = _run_quietly([sys.executable, "-m", "pip", "freeze", "--all", "--exclude-editable"])
    lines = [
        line
        for line in frozen.splitlines()
        if line.strip()
        and not line.startswith(("#", "-e"))
        and line.split("==")[0].strip().lower().replace("_", "-") != DISTRIBUTION
    ]
    return "\n".join(sorted(lines, key=str.lower)) + "\n"


def _build_wheel(into: Path) -> Path:
    """A wheel of the work tree as it is now, built from a copy (no ``build/`` left in the repo)."""
    source = into / "source"
    source.mkdir()
    for name in _WHEEL_SOURCES:
        if (REPO_ROOT / name).is_file():
            shutil.copy2(REPO_ROOT / name, source / name)
    shutil.copytree(
        REPO_ROOT / "airflow_provider_cloudos",
        source / "airflow_provider_cloudos",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    wheels = into / "wheels"
    _run_quietly([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", wheels, source])
    (wheel,) = wheels.glob("*.whl")
    return wheel


def prepare_wheel_venv() -> str | None:
    """Make ``bench/.venv-wheel`` and install the current work tree's wheel; the reason if it failed.

    Idempotent: the venv (slow: all of Airflow) is made again only when ``.venv``'s pins change;
    the wheel (fast) is rebuilt and reinstalled on every run, so the figures are of the code as it is.
    """
    try:
        pins = _dependency_pins()
        if WHEEL_VENV.exists() and (
            not WHEEL_PINS_STAMP.exists() or WHEEL_PINS_STAMP.read_text(encoding="utf-8") != pins
        ):
            print(f"   {WHEEL_VENV.name}: the pins of .venv changed, making it again", flush=True)
            shutil.rmtree(WHEEL_VENV)
        if not WHEEL_PYTHON.exists():
            print(f"   creating {WHEEL_VENV} (all of .venv's pinned dependencies: a few minutes)", flush=True)
            base_python = getattr(sys, "_base_executable", sys.executable)
            _run_quietly([base_python, "-m", "venv", WHEEL_VENV])
            pins_file = WHEEL_VENV / "bench-pins.requested.txt"
            pins_file.write_text(pins, encoding="utf-8")
            _run_quietly([WHEEL_PYTHON, "-m", "pip", "install", "--quiet", "-r", pins_file])
            WHEEL_PINS_STAMP.write_text(pins, encoding="utf-8")
        with tempfile.TemporaryDirectory(prefix="cloudos-bench-wheel-") as scratch:
            wheel = _build_wheel(Path(scratch))
            print(f"   installing {wheel.name} into {WHEEL_VENV.name}", flush=True)
            _run_quietly(
                [WHEEL_PYTHON, "-m", "pip", "install", "--quiet", "--no-deps", "--force-reinstall", wheel]
            )
    except (OSError, RuntimeError, ValueError) as error:
        if WHEEL_VENV.exists() and not WHEEL_PINS_STAMP.exists():
            shutil.rmtree(WHEEL_VENV, ignore_errors=True)  # half made: start again next time
        return f"could not prepare {WHEEL_VENV}: {error}"
    return None


def _python_of(scenario: dict[str, Any]) -> Path | str:
    return WHEEL_PYTHON if scenario.get("wheel") else scenario.get("python", sys.executable)


def _install_of(scenario: dict[str, Any]) -> str:
    if scenario.get("wheel"):
        return "wheel (bench/.venv-wheel)"
    if "python" in scenario:
        return "bench-only venv"
    return "editable (.venv, run from the repository root)"


def measure(names: Sequence[str], repeats: int, warmups: int = 2) -> dict[str, dict[str, Any]]:
    """Median import time of each scenario, probed round-robin.

    One probe of every scenario per round, rather than all probes of one scenario in a row, so
    that load from elsewhere on the machine falls on all scenarios alike and the differences
    between them (editable against wheel install, above all) stay fair.
    """
    results: dict[str, dict[str, Any]] = {}
    runnable = []
    for name in names:
        python = _python_of(SCENARIOS[name])
        if Path(python).exists():
            runnable.append(name)
        else:
            results[name] = {
                "skipped": f"{python} not found: run bench/run_all.sh (it creates the bench-only venv)"
            }
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in runnable}
    for round_ in range(warmups + repeats):
        print(f"   round {round_ + 1 - warmups}/{repeats}" if round_ >= warmups else "   warm-up", flush=True)
        for name in runnable:
            scenario = SCENARIOS[name]
            run = _probe(
                _python_of(scenario),
                scenario["module"],
                scenario["before"],
                wheel=bool(scenario.get("wheel")),
            )
            if round_ >= warmups:
                runs[name].append(run)
    for name in runnable:
        scenario = SCENARIOS[name]
        seconds = [run["seconds"] for run in runs[name]]
        results[name] = {
            "module": scenario["module"],
            "imported_first": scenario["before"],
            "install": _install_of(scenario),
            "imported_from": runs[name][-1]["file"],
            "repeats": repeats,
            "median_ms": round(median(seconds) * 1000, 2),  # type: ignore[operator]
            "p10_ms": round(percentile(seconds, 10) * 1000, 2),  # type: ignore[operator]
            "p90_ms": round(percentile(seconds, 90) * 1000, 2),  # type: ignore[operator]
            "airflow_imported": runs[name][-1]["airflow_imported"],
            "heavy_loaded": runs[name][-1]["heavy_loaded"],
            "modules_loaded": runs[name][-1]["modules"],
        }
    return {name: results[name] for name in names}


_DAGBAG_PROBE = """
import json, time
try:
    from airflow.dag_processing.dagbag import DagBag
except ImportError:  # Airflow 2
    from airflow.models.dagbag import DagBag
started = time.perf_counter()
bag = DagBag(dag_folder={path!r})
seconds = time.perf_counter() - started
errors = {{k: v[:300] for k, v in bag.import_errors.items()}}
print(json.dumps({{"seconds": seconds, "dags": sorted(bag.dag_ids), "errors": errors}}))
"""


def dag_parse_times(repeats: int) -> dict[str, Any]:
    """Parse time of each example DAG: the colleague's script when present, else a DagBag per file."""
    script = BENCH_DIR / "dag_parse_time.py"
    if script.exists():
        completed = subprocess.run(
            [sys.executable, str(script), "--json", "--repeats", str(repeats)],
            capture_output=True,
            text=True,
            cwd=REPO_ROOT,
            env=bench_environment(),
            check=False,
        )
        output = completed.stdout.strip()
        try:
            parsed: Any = json.loads(output)
        except json.JSONDecodeError:
            parsed = output[-4000:]
        return {"source": "bench/dag_parse_time.py", "exit_code": completed.returncode, "result": parsed}
    files = sorted((REPO_ROOT / "example_dags").glob("*.py"))
    results: dict[str, Any] = {}
    for path in files:
        runs = []
        for _ in range(repeats):
            completed = subprocess.run(
                [sys.executable, "-c", _DAGBAG_PROBE.format(path=str(path))],
                capture_output=True,
                text=True,
                cwd=REPO_ROOT,
                env=bench_environment(),
                check=True,
            )
            runs.append(json.loads(completed.stdout.strip().splitlines()[-1]))
        seconds = [run["seconds"] for run in runs]
        results[path.name] = {
            "median_ms": round(median(seconds) * 1000, 1),  # type: ignore[operator]
            "dags": runs[-1]["dags"],
            "errors": runs[-1]["errors"],
        }
    return {"source": "DagBag per file, fresh process, airflow already importable", "files": results}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.import_cost", description=__doc__)
    parser.add_argument("--repeats", type=int, default=25)
    parser.add_argument("--dag-repeats", type=int, default=5)
    parser.add_argument(
        "--no-wheel", action="store_true", help="skip the wheel-install scenarios (no bench/.venv-wheel)"
    )
    args = parser.parse_args(argv)
    print(f"-- wheel install into {WHEEL_VENV}", flush=True)
    wheel_problem = "--no-wheel given" if args.no_wheel else prepare_wheel_venv()
    if wheel_problem:
        print(f"   skipped: {wheel_problem}", flush=True)
    measured = [name for name in SCENARIOS if not (wheel_problem and SCENARIOS[name].get("wheel"))]
    print(f"-- imports: {len(measured)} scenarios, {args.repeats} rounds", flush=True)
    imports = measure(measured, args.repeats)
    for name in SCENARIOS:
        imports.setdefault(name, {"skipped": wheel_problem})
        print(f"-- import {name}: {json.dumps(imports[name])}", flush=True)
    imports = {name: imports[name] for name in SCENARIOS}
    # The official client is a regular install in its own venv: compare it with the core installed
    # the same way; the editable figure is flattered (its import hook preloads re, enum, pathlib...).
    core_basis = "core (wheel install)" if "median_ms" in imports["core (wheel install)"] else "core"
    core = imports[core_basis].get("median_ms")
    official = imports["official interactive_session"].get("median_ms")
    print("-- DAG parse times", flush=True)
    parse = dag_parse_times(args.dag_repeats)
    write_result(
        "import_cost",
        {
            "imports": imports,
            "core_vs_official_speedup": round(official / core, 1) if core and official else None,
            "core_vs_official_basis": core_basis,
            "dag_parse": parse,
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
