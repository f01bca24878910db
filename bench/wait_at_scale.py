"""Benchmark 1: waiting on N sessions at once, the deferrable way against the alternatives.

``python -m bench.wait_at_scale [--sizes 100,1000,5000] [--thread-sizes 100,1000,5000]``

The simulator runs in its own process (its CPU and memory are not the client's). For each N,
a fresh worker process (:mod:`bench.scale_worker`) waits for N sessions that become ready
``--ready-after`` seconds after they are added, polling every ``--poll-interval`` seconds:

* ``trigger``: N ``CloudOSSessionTrigger.run()`` in one asyncio loop, as the triggerer runs them;
* ``threads``: N threads polling with ``requests`` like the official client's watch loop.

Then ``--poke-processes`` real poke-mode sensor processes (:mod:`bench.poke_worker`) wait too,
and their memory is measured and extrapolated to N (a worker process per waiting task).
Writes ``bench/results/wait_at_scale.json``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import psutil

from bench.common import (
    REPO_ROOT,
    RESULTS_DIR,
    bench_environment,
    kib,
    mib,
    write_result,
)
from bench.simproc import SimulatorProcess

WORKER_TIMEOUT_SECONDS = 900


def _sizes(text: str) -> list[int]:
    return [int(part.replace("_", "")) for part in text.split(",") if part.strip()]


def run_worker(
    sim: SimulatorProcess,
    mode: str,
    n: int,
    *,
    poll_interval: float,
    deadline_seconds: float,
    log: Path,
    stagger: float = 0.0,
    gc_freeze: bool = False,
) -> dict[str, Any]:
    """One fresh worker process waiting for ``n`` new sessions; its figures plus the server's."""
    warm_id = sim.add(1, status="ready", name=f"warm-{mode}-{n}")[0]
    env = bench_environment({"AIRFLOW_CONN_CLOUDOS_DEFAULT": sim.connection})
    with log.open("a", encoding="utf-8") as errors:
        errors.write(f"\n==== {mode} N={n}\n")
        errors.flush()
        process = subprocess.Popen(
            [sys.executable, "-m", "bench.scale_worker", "--mode", mode, "--warm-id", warm_id],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
            cwd=REPO_ROOT,
            env=env,
        )
        assert process.stdin is not None
        assert process.stdout is not None
        try:
            ready = process.stdout.readline().split()
            if not ready or ready[0] != "READY":
                raise RuntimeError(f"{mode} worker did not start (see {log})")
            added_at = time.time()  # before the add: ready at most ready_after later
            ids = sim.add(n, status="scheduled", name=f"{mode}-{n}")
            sim.reset()
            server_before = sim.usage()
            process.stdin.write(
                json.dumps(
                    {
                        "ids": ids,
                        "poll_interval": poll_interval,
                        "deadline_seconds": deadline_seconds,
                        "stagger": stagger,
                        "gc_freeze": gc_freeze,
                    }
                )
                + "\n"
            )
            process.stdin.flush()
            line = process.stdout.readline()
            process.wait(timeout=WORKER_TIMEOUT_SECONDS)
        except BaseException:
            process.kill()
            process.wait()
            raise
    if not line:
        raise RuntimeError(f"{mode} worker N={n} exited with {process.returncode} (see {log})")
    result: dict[str, Any] = json.loads(line)
    result["added_at"] = added_at
    counters = sim.counters()
    server_after = sim.usage()
    polls = counters["requests"]["get"]
    baseline = result["baseline_rss_bytes"]
    peak_above = result["peak_rss_bytes"] - baseline
    steady = result.get("steady_rss_bytes")
    steady_above = None if steady is None else steady - baseline
    waited = result["first_event_seconds"]
    result.update(
        {
            "poll_interval_seconds": poll_interval,
            "stagger_seconds": stagger,
            "gc_freeze_prototype": gc_freeze,
            "polls": polls,
            "requests": counters["total_requests"],
            "responses": counters["responses"],
            "tcp_connections_opened": counters["connections_accepted"],
            "cpu_seconds_per_poll": round(result["cpu_seconds"] / polls, 6) if polls else None,
            "achieved_polls_per_session_per_second": round(polls / n / result["last_event_seconds"], 3),
            "peak_rss_above_baseline_bytes": peak_above,
            "peak_rss_above_baseline_mib": mib(peak_above),
            "peak_kib_per_session": kib(peak_above / n),
            "steady_rss_above_baseline_mib": mib(steady_above),
            "steady_kib_per_session": None if steady_above is None else kib(steady_above / n),
            "baseline_rss_mib": mib(baseline),
            "peak_rss_mib": mib(result["peak_rss_bytes"]),
            "server_cpu_seconds": round(server_after["cpu_seconds"] - server_before["cpu_seconds"], 2),
            "server_cpu_share": round(
                (server_after["cpu_seconds"] - server_before["cpu_seconds"])
                / max(result["elapsed_seconds"], 1e-9),
                2,
            ),
            "waiting_seconds": waited,
        }
    )
    return result


def measure_poke(
    sim: SimulatorProcess, count: int, poll_interval: float, settle_seconds: float
) -> dict[str, Any]:
    """Memory of real poke-mode sensor processes while they wait (one per waiting session)."""
    ids = sim.add(count, status="scheduled", name="poke")
    env = bench_environment({"AIRFLOW_CONN_CLOUDOS_DEFAULT": sim.connection})
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "bench.poke_worker", session_id, str(poll_interval)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            cwd=REPO_ROOT,
            env=env,
        )
        for session_id in ids
    ]
    try:
        for process in processes:
            assert process.stdout is not None
            if process.stdout.readline().strip() != "POKING":
                raise RuntimeError("a poke worker did not start")
        time.sleep(settle_seconds)
        measured = []
        for process in processes:
            info = psutil.Process(process.pid).memory_full_info()
            measured.append({"rss": info.rss, "uss": info.uss, "pss": getattr(info, "pss", None)})
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
    rss = sorted(m["rss"] for m in measured)
    uss = sorted(m["uss"] for m in measured)
    pss = sorted(m["pss"] for m in measured if m["pss"] is not None)
    return {
        "processes_measured": count,
        "per_process_rss_mib": [mib(v) for v in rss],
        "per_process_uss_mib": [mib(v) for v in uss],
        "per_process_pss_mib": [mib(v) for v in pss],
        "median_rss_bytes": rss[len(rss) // 2],
        "median_uss_bytes": uss[len(uss) // 2],
        "median_pss_bytes": pss[len(pss) // 2] if pss else None,
        "note": (
            "Each poke-mode wait holds a whole Python process with Airflow imported (measured here) "
            "plus, on Airflow 3, a supervisor process per task (not measured: the figures are a lower "
            "bound). Extrapolated linearly: N waits = N processes. USS is memory no other process "
            "shares; RSS also counts shared library pages."
        ),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.wait_at_scale", description=__doc__)
    parser.add_argument("--sizes", default="100,1000,5000", help="N for the trigger runs")
    parser.add_argument("--thread-sizes", default="100,1000,5000", help="N for the thread runs ('' = none)")
    parser.add_argument("--poll-interval", type=float, default=1.0)
    parser.add_argument("--ready-after", type=float, default=25.0, help="seconds until sessions are ready")
    parser.add_argument("--poke-processes", type=int, default=4)
    parser.add_argument(
        "--no-variants",
        dest="variants",
        action="store_false",
        help="skip the extra runs at the largest N (spread starts, 2 s and 5 s polls, gc.freeze())",
    )
    parser.add_argument(
        "--extra",
        default="[]",
        help='more runs, as JSON: [{"label": "x", "mode": "trigger", "n": 5000, "poll": 5}]',
    )
    parser.add_argument("--output", default="wait_at_scale", help="result name under bench/results/")
    args = parser.parse_args(argv)
    ready_after = args.ready_after
    deadline = ready_after * 10 + 120
    log = RESULTS_DIR / f"{args.output}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text("", encoding="utf-8")
    runs: list[dict[str, Any]] = []
    with SimulatorProcess(
        scheduled=ready_after * 0.2, setup=ready_after * 0.4, initialising=ready_after * 0.4, backlog=8192
    ) as sim:
        poll = args.poll_interval
        plan: list[dict[str, Any]] = [
            {"label": "trigger", "mode": "trigger", "n": n, "poll": poll} for n in _sizes(args.sizes)
        ]
        plan += [
            {"label": "threads", "mode": "threads", "n": n, "poll": poll} for n in _sizes(args.thread_sizes)
        ]
        if args.variants:
            top = max(_sizes(args.sizes))
            plan += [
                {
                    "label": "trigger, starts spread over 1 poll",
                    "mode": "trigger",
                    "n": top,
                    "poll": poll,
                    "stagger": poll,
                },
                {"label": "trigger, 2 s poll", "mode": "trigger", "n": top, "poll": 2.0},
                {"label": "trigger, 5 s poll", "mode": "trigger", "n": top, "poll": 5.0},
                {
                    "label": "trigger, 5 s poll, gc.freeze()",
                    "mode": "trigger",
                    "n": top,
                    "poll": 5.0,
                    "gc_freeze": True,
                },
            ]
        plan += json.loads(args.extra)
        for item in plan:
            mode, n = item["mode"], item["n"]
            print(f"-- {item['label']} N={n} poll={item['poll']}", flush=True)
            try:
                result = run_worker(
                    sim,
                    mode,
                    n,
                    poll_interval=item["poll"],
                    deadline_seconds=deadline,
                    log=log,
                    stagger=item.get("stagger", 0.0),
                    gc_freeze=item.get("gc_freeze", False),
                )
            except (RuntimeError, subprocess.TimeoutExpired) as error:
                result = {"mode": mode, "n": n, "failed": str(error)}
            result["label"] = item["label"]
            runs.append(result)
            result.pop("event_wall_times", None)
            print(json.dumps({k: v for k, v in result.items() if k != "rss_samples"}), flush=True)
        poke = (
            measure_poke(
                sim, args.poke_processes, args.poll_interval, settle_seconds=min(8.0, ready_after / 2)
            )
            if args.poke_processes
            else None
        )
    write_result(
        args.output,
        {
            "parameters": {
                "poll_interval_seconds": args.poll_interval,
                "ready_after_seconds": ready_after,
                "heartbeat_seconds": 0.010,
                "simulator": "separate process (bench.sim_server)",
            },
            "runs": runs,
            "poke_mode": poke,
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
