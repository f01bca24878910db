"""Benchmark: one read serves many waits. Per-wait reads and the shared reader, side by side.

``python -m bench.shared_reads [--sizes 1000,5000] [--polls 1,30]``

For each N and poll interval, two fresh worker processes (:mod:`bench.scale_worker`) wait in one
event loop for N sessions of one workspace that become ready ``ready_after`` seconds after they are
added (2.5 poll intervals, at least 20 s): ``trigger-per-wait`` (the shared reader and the request
budget turned off, so every wait reads its own session, unpaced, as before they existed) and
``trigger`` (as shipped). The
simulator runs in its own process. Reported for each run:

* reads a second reaching CloudOS while the sessions start (every request the simulator received,
  reads of one session and list pages alike, over the time until they are ready);
* CPU per wait per round (the worker's CPU over N waits and the rounds their polls made);
* the event loop's lag, p99 in the steady state (a 10 ms heartbeat's oversleep);
* from a session reaching ``running`` to its wait's event, p50 and p99 (over the N waits);
* memory per wait in the loop (the steady RSS over the baseline, per wait).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from bench.common import RESULTS_DIR, percentile, write_result
from bench.simproc import SimulatorProcess
from bench.wait_at_scale import _sizes, run_worker

MODES = {"trigger-per-wait": "a read per wait", "trigger": "shared reader"}


def _ready_after(poll: float) -> float:
    return max(20.0, 2.5 * poll)


def _figures(result: dict[str, Any], n: int, poll: float, ready_after: float) -> dict[str, Any]:
    if "failed" in result:
        return result
    ready_at = result["added_at"] + ready_after
    noticed = [max(0.0, moment - ready_at) for moment in result.pop("event_wall_times")]
    rounds = max(1.0, result["last_event_seconds"] / poll)
    return {
        "n": n,
        "poll_seconds": poll,
        "events_correct": result["events_correct"],
        "requests": result["requests"],
        "reads_per_second": round(result["requests"] / result["last_event_seconds"], 1),
        "cpu_ms_per_wait_per_round": round(result["cpu_seconds"] / n / rounds * 1000, 4),
        "loop_lag_p99_ms": result["loop_lag_steady"]["p99_ms"],
        "loop_lag_max_ms": result["loop_lag_steady"]["max_ms"],
        "noticed_p50_seconds": round(percentile(noticed, 50), 3),
        "noticed_p99_seconds": round(percentile(noticed, 99), 3),
        "kib_per_wait": result["steady_kib_per_session"],
        "elapsed_seconds": result["elapsed_seconds"],
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.shared_reads", description=__doc__)
    parser.add_argument("--sizes", default="1000,5000", help="N waits")
    parser.add_argument("--polls", default="1,30", help="poll intervals, seconds")
    args = parser.parse_args(argv)
    log = RESULTS_DIR / "shared_reads.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text("", encoding="utf-8")
    runs: list[dict[str, Any]] = []
    for poll in (float(text) for text in args.polls.split(",")):
        ready_after = _ready_after(poll)
        # A simulator per poll interval: its sessions' timings make them ready ready_after later.
        with SimulatorProcess(
            scheduled=ready_after * 0.2, setup=ready_after * 0.4, initialising=ready_after * 0.4, backlog=8192
        ) as sim:
            for n in _sizes(args.sizes):
                for mode, label in MODES.items():
                    print(f"-- {label}: N={n}, poll {poll:g} s", flush=True)
                    result = run_worker(
                        sim, mode, n, poll_interval=poll, deadline_seconds=ready_after * 4 + 120, log=log
                    )
                    figures = _figures(result, n, poll, ready_after)
                    figures["reading"] = label
                    runs.append(figures)
                    print(figures, flush=True)
    write_result(
        "shared_reads",
        {
            "parameters": {"simulator": "separate process (bench.sim_server)", "heartbeat_seconds": 0.010},
            "runs": runs,
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
