"""Benchmark 2: what importing the provider costs, and what parsing the example DAGs costs.

``python -m bench.import_cost [--repeats 25]``

Every measurement is a fresh interpreter (nothing cached in ``sys.modules``), repeated, and the
median is reported; bytecode is compiled by warm-up runs first, so the figures are what a
worker or the DAG processor pays on every start, not a first-ever import.

* ``core``: ``import airflow_provider_cloudos.core`` in a bare interpreter (and a check that it
  imported no Airflow module);
* ``airflow.sdk``: Airflow's own import, the floor of any DAG file;
* ``hook`` and ``operators``: the extra time on top of an already imported ``airflow.sdk``;
* ``official``: ``import cloudos_cli.interactive_session.interactive_session`` in a separate,
  bench-only virtual environment (``bench/.venv-official``, made by ``bench/run_all.sh``).

DAG parse times come from ``bench/dag_parse_time.py`` when it exists (it is another benchmark's
script), otherwise from a ``DagBag`` of each file in ``example_dags/``, in a fresh process each.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.common import BENCH_DIR, REPO_ROOT, bench_environment, median, percentile, write_result

OFFICIAL_PYTHON = BENCH_DIR / ".venv-official" / "bin" / "python"
OFFICIAL_MODULE = "cloudos_cli.interactive_session.interactive_session"

#: Each probe prints {"seconds": <time of the measured import>, ...} as JSON.
_PROBE = """
import json, sys, time
for name in {before!r}:
    __import__(name)
started = time.perf_counter()
__import__({module!r})
seconds = time.perf_counter() - started
print(json.dumps({{"seconds": seconds, "airflow_imported": "airflow" in sys.modules,
                  "modules": len(sys.modules)}}))
"""

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


def _probe(python: Path | str, module: str, before: list[str]) -> dict[str, Any]:
    code = _PROBE.format(module=module, before=before)
    completed = subprocess.run(
        [str(python), "-c", code],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env=bench_environment(),
        check=True,
    )
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def measure(name: str, repeats: int, warmups: int = 2) -> dict[str, Any]:
    scenario = SCENARIOS[name]
    python = scenario.get("python", sys.executable)
    if not Path(python).exists():
        return {"skipped": f"{python} not found: run bench/run_all.sh (it creates the bench-only venv)"}
    for _ in range(warmups):
        _probe(python, scenario["module"], scenario["before"])
    runs = [_probe(python, scenario["module"], scenario["before"]) for _ in range(repeats)]
    seconds = [run["seconds"] for run in runs]
    return {
        "module": scenario["module"],
        "imported_first": scenario["before"],
        "repeats": repeats,
        "median_ms": round(median(seconds) * 1000, 2),  # type: ignore[operator]
        "p10_ms": round(percentile(seconds, 10) * 1000, 2),  # type: ignore[operator]
        "p90_ms": round(percentile(seconds, 90) * 1000, 2),  # type: ignore[operator]
        "airflow_imported": runs[-1]["airflow_imported"],
        "modules_loaded": runs[-1]["modules"],
    }


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
    args = parser.parse_args(argv)
    imports = {}
    for name in SCENARIOS:
        print(f"-- import {name}", flush=True)
        imports[name] = measure(name, args.repeats)
        print(json.dumps(imports[name]), flush=True)
    core = imports["core"].get("median_ms")
    official = imports["official interactive_session"].get("median_ms")
    print("-- DAG parse times", flush=True)
    parse = dag_parse_times(args.dag_repeats)
    write_result(
        "import_cost",
        {
            "imports": imports,
            "core_vs_official_speedup": round(official / core, 1) if core and official else None,
            "dag_parse": parse,
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
