"""How long each example DAG file takes to parse: a benchmark to watch, not a test to pass.

``python bench/dag_parse_time.py [--repeats 5] [--json]`` (from the repository root)

Airflow parses every DAG file again and again (the DAG processor, and each worker before it
runs a task), so a slow DAG file costs all day. For each file in ``example_dags/`` this runs
fresh interpreters that import Airflow first (not timed: every DAG file pays it, and the DAG
processor has it loaded already), then time:

* ``cold``: a ``DagBag`` of that one file in the fresh interpreter, which includes importing the
  provider's modules, as a worker's first parse does;
* ``warm``: a second ``DagBag`` of the same file in the same interpreter, with the provider's
  modules already loaded, as a long-lived parser pays for each re-parse.

It prints the median (and the worst cold run) per file, with the DAGs and tasks found, next to
Airflow's ``[core] dagbag_import_timeout``, the budget a parse must stay well within. Sockets
refuse to connect while parsing, so a DAG file that touches the network fails loudly here.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_DAGS = REPO_ROOT / "example_dags"

_PROBE = """
import json, socket, sys, time
import airflow
try:
    from airflow.dag_processing.dagbag import DagBag
except ImportError:  # Airflow 2
    from airflow.models.dagbag import DagBag
from airflow.configuration import conf

def refuse(*args, **kwargs):
    raise OSError("network access while parsing a DAG file")

socket.socket.connect = refuse
extra = {"include_examples": False} if airflow.__version__ < "3" else {}
timings = []
for _ in range(2):
    started = time.perf_counter()
    bag = DagBag(dag_folder=sys.argv[1], **extra)
    timings.append(time.perf_counter() - started)
print(json.dumps({
    "airflow": airflow.__version__,
    "cold": timings[0],
    "warm": timings[1],
    "dags": len(bag.dags),
    "tasks": sum(len(dag.tasks) for dag in bag.dags.values()),
    "errors": {str(k): str(v)[-300:] for k, v in bag.import_errors.items()},
    "budget": conf.getfloat("core", "dagbag_import_timeout"),
}))
"""


def _environment(home: str) -> dict[str, str]:
    """Only this benchmark's Airflow settings; the repository importable; no proxy for loopback."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW")}
    env.update(
        {
            "AIRFLOW_HOME": home,
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH", "")])),
        }
    )
    return env


def measure(path: Path, repeats: int, env: dict[str, str]) -> dict[str, Any]:
    runs = []
    for _ in range(repeats):
        completed = subprocess.run(
            [sys.executable, "-c", _PROBE, str(path)],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
            check=False,
        )
        lines = [line for line in completed.stdout.splitlines() if line.startswith("{")]
        if completed.returncode != 0 or not lines:
            raise SystemExit(
                f"parsing {path.name} failed:\n{completed.stdout[-2000:]}\n{completed.stderr[-2000:]}"
            )
        runs.append(json.loads(lines[-1]))
    cold = [run["cold"] * 1000 for run in runs]
    warm = [run["warm"] * 1000 for run in runs]
    last = runs[-1]
    return {
        "file": path.name,
        "dags": last["dags"],
        "tasks": last["tasks"],
        "errors": last["errors"],
        "cold_median_ms": round(statistics.median(cold), 1),
        "cold_max_ms": round(max(cold), 1),
        "warm_median_ms": round(statistics.median(warm), 1),
        "airflow": last["airflow"],
        "budget_seconds": last["budget"],
    }


def table(rows: list[dict[str, Any]], repeats: int) -> str:
    header = f"{'file':<40} {'dags':>4} {'tasks':>5} {'cold p50':>9} {'cold max':>9} {'warm p50':>9}"
    lines = [header, "-" * len(header)]
    for row in rows:
        lines.append(
            f"{row['file']:<40} {row['dags']:>4} {row['tasks']:>5} {row['cold_median_ms']:>7.1f}ms "
            f"{row['cold_max_ms']:>7.1f}ms {row['warm_median_ms']:>7.1f}ms"
            + (f"  IMPORT ERRORS: {row['errors']}" if row["errors"] else "")
        )
    if rows:
        lines.append(
            f"Airflow {rows[0]['airflow']}, {repeats} fresh interpreter(s) per file; "
            f"budget: [core] dagbag_import_timeout = {rows[0]['budget_seconds']:.0f}s per file"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Parse time of each example DAG file.")
    parser.add_argument("--repeats", type=int, default=5, help="fresh interpreters per file (default 5)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error(f"--repeats={args.repeats}: expected at least 1")
    files = sorted(EXAMPLE_DAGS.glob("*.py"))
    with tempfile.TemporaryDirectory(prefix="cloudos-bench-dag-parse-") as home:
        env = _environment(home)
        rows = [measure(path, args.repeats, env) for path in files]
    print(
        json.dumps({"repeats": args.repeats, "files": rows}, indent=2)
        if args.json
        else table(rows, args.repeats)
    )
    return 1 if any(row["errors"] for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
