"""Plot memory against the number of waiting sessions, from ``bench/results/wait_at_scale.json``.

Runs with any Python that has matplotlib (``bench/run_all.sh`` uses the bench-only
``bench/.venv-plot``; the project itself does not depend on matplotlib). Without matplotlib it
says so and exits 0: the plot is a picture of figures that BENCHMARKS.md also lists as numbers.
Uses only the standard library besides matplotlib, so it needs nothing of the project.

``python bench/plot_memory.py`` → ``bench/results/memory_vs_sessions.png``
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

RESULTS = Path(os.environ.get("CLOUDOS_BENCH_RESULTS") or Path(__file__).resolve().parent / "results")
MIB = 2**20


def _series(runs: list[dict[str, Any]], label: str) -> list[tuple[int, float]]:
    points = [
        (run["n"], run["peak_rss_above_baseline_bytes"] / MIB)
        for run in runs
        if run.get("label") == label
        and "peak_rss_above_baseline_bytes" in run
        and run.get("poll_interval_seconds") == 1.0
    ]
    return sorted(points)


def main() -> int:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed here: no plot (run bench/run_all.sh to get the bench-only venv)")
        return 0
    data = json.loads((RESULTS / "wait_at_scale.json").read_text(encoding="utf-8"))
    runs = data["runs"]
    figure, axes = plt.subplots(figsize=(8, 5.5), dpi=110)
    triggers = _series(runs, "trigger")
    threads = _series(runs, "threads")
    if triggers:
        axes.plot(
            *zip(*triggers, strict=True),
            "o-",
            color="tab:blue",
            label="deferrable: CloudOSSessionTrigger, one loop",
        )
    if threads:
        axes.plot(
            *zip(*threads, strict=True),
            "s-",
            color="tab:orange",
            label="blocking: a thread per session (requests)",
        )
    for run in runs:
        # A wait that could not poll as often as asked holds less than it would if it kept up.
        achieved = run.get("achieved_polls_per_session_per_second")
        if (
            run.get("label") in ("trigger", "threads")
            and run.get("poll_interval_seconds") == 1.0
            and achieved
        ) and achieved < 0.5:
            axes.annotate(
                f"fell behind: {achieved:.0%} of the polls asked for",
                (run["n"], run["peak_rss_above_baseline_bytes"] / MIB),
                textcoords="offset points",
                xytext=(-150, -22 if run["mode"] == "threads" else 10),
                fontsize=7,
                arrowprops={"arrowstyle": "-", "alpha": 0.4},
            )
    poke = data.get("poke_mode")
    sizes = sorted({n for n, _ in triggers + threads}) or [100, 1000, 5000]
    if poke:
        per_process = poke["median_uss_bytes"] / MIB
        axes.plot(
            sizes,
            [n * per_process for n in sizes],
            "^--",
            color="tab:red",
            label=f"poke mode: a worker process per session ({per_process:.0f} MiB USS each, extrapolated)",
        )
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("sessions waited on at once (N)")
    axes.set_ylabel("memory above the idle process (MiB, peak RSS)")
    machine = data.get("machine", {})
    axes.set_title(
        f"Memory of N concurrent waits, 1 s polls ({machine.get('nproc')} cores, "
        f"Python {machine.get('python')}, Airflow {machine.get('airflow')})",
        fontsize=10,
    )
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=8, loc="upper left")
    figure.tight_layout()
    target = RESULTS / "memory_vs_sessions.png"
    figure.savefig(target)
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
