"""``python -m bench [all|STEP|harness|plot|report] [--quick]``, STEP one of ``STEPS`` below

Runs the benchmarks, each in its own process (so one never inflates another's memory), writes
``bench/results/*.json``, draws the plot when matplotlib is available in the bench-only venv,
and regenerates the tables of BENCHMARKS.md. ``--quick`` runs smaller sizes to check that
everything works (its figures are not the published ones).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Sequence

from bench.common import BENCH_DIR, REPO_ROOT, RESULTS_DIR, bench_environment

PLOT_PYTHON = BENCH_DIR / ".venv-plot" / "bin" / "python"

STEPS: dict[str, list[str]] = {
    "scale": ["-m", "bench.wait_at_scale"],
    "floor": ["-m", "bench.http_floor"],
    "imports": ["-m", "bench.import_cost"],
    "http": ["-m", "bench.http_efficiency"],
    "latency": ["-m", "bench.detection_latency"],
    "objects": ["-m", "bench.trigger_objects"],
    "fleet": ["-m", "bench.fleet_wait"],
    "weight": ["-m", "bench.package_weight"],
    "shared-reads": ["-m", "bench.shared_reads"],
}
QUICK: dict[str, list[str]] = {
    "scale": [
        "--sizes",
        "100,500",
        "--thread-sizes",
        "100",
        "--ready-after",
        "6",
        "--poke-processes",
        "2",
        "--no-variants",
    ],
    "imports": ["--repeats", "3", "--dag-repeats", "1"],
    "latency": ["--samples", "5"],
    "objects": ["--n", "200"],
    "floor": ["--requests", "2000"],
    "fleet": ["--sizes", "50"],
    "shared-reads": ["--sizes", "200", "--polls", "1"],
}


def _run(args: list[str], env: dict[str, str] | None = None) -> int:
    print(f"== {' '.join(args)}", flush=True)
    return subprocess.run(args, cwd=REPO_ROOT, env=env or bench_environment(), check=False).returncode


def harness() -> int:
    results = os.environ.get("CLOUDOS_BENCH_RESULTS") or str(RESULTS_DIR)
    env = bench_environment({"CLOUDOS_HARNESS_REPORT": os.path.join(results, "harness.json")})
    return _run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/reliability"], env)


def plot() -> int:
    python = str(PLOT_PYTHON) if PLOT_PYTHON.exists() else sys.executable
    return _run([python, str(BENCH_DIR / "plot_memory.py")], dict(os.environ))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "what",
        nargs="?",
        default="all",
        choices=["all", *STEPS, "harness", "plot", "report"],
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, to check the scripts work")
    args = parser.parse_args(argv)
    chosen = [*STEPS, "harness", "plot", "report"] if args.what == "all" else [args.what]
    if args.quick:
        # Quick figures are for checking the scripts, never for BENCHMARKS.md.
        os.environ["CLOUDOS_BENCH_RESULTS"] = str(RESULTS_DIR / "quick")
        chosen = [step for step in chosen if step != "report"]
    failures = []
    for step in chosen:
        if step in STEPS:
            code = _run([sys.executable, *STEPS[step], *(QUICK.get(step, []) if args.quick else [])])
        elif step == "harness":
            code = harness()
        elif step == "plot":
            code = plot()
        else:
            code = _run([sys.executable, "-m", "bench.report"])
        if code:
            failures.append(step)
    if failures:
        print(f"failed: {', '.join(failures)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
