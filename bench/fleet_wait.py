"""Fleet pause: one CloudOSSessionTrigger per session vs one CloudOSFleetTrigger for the batch.

``python -m bench.fleet_wait [--sizes 250,1000] [--aborting 2] [--poll 0.5] [--latency 0.02]``

Both approaches wait for N sessions (asked to pause just before) to become paused, against the
local simulator, in one event loop like a triggerer. Reports requests, TCP connections, stored
kwargs, wall time and the CPU time of the event-loop thread (the simulator runs in its own
thread). Writes ``bench/results/fleet_wait.json``; ``python -m bench.report`` turns it into the
"fleet" table of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from typing import Any

from bench.common import write_result

APPROACHES = ("one trigger per session", "one batch trigger")


def _isolated_airflow() -> None:
    """A throw-away Airflow home, so the triggers' connection lookup never reads the user's."""
    home = tempfile.mkdtemp(prefix="fleetbench-")
    os.environ.setdefault("AIRFLOW_HOME", home)
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "True")
    os.environ.setdefault("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", f"sqlite:///{home}/airflow.db")
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"
    logging.disable(logging.WARNING)


async def _drain(trigger: Any) -> list[dict[str, Any]]:
    return [event.payload async for event in trigger.run()]


def _triggers(approach: str, ids: list[str], poll: float) -> list[Any]:
    from airflow_provider_cloudos.triggers.fleet import CloudOSFleetTrigger
    from airflow_provider_cloudos.triggers.sessions import CloudOSSessionTrigger

    end = time.time() + 120
    if approach != APPROACHES[0]:
        return [
            CloudOSFleetTrigger(session_ids=ids, end_time=end, target_statuses=["paused"], poll_interval=poll)
        ]
    return [
        CloudOSSessionTrigger(session_id=sid, end_time=end, target_statuses=["paused"], poll_interval=poll)
        for sid in ids
    ]


def measure(approach: str, n: int, aborting: float, poll: float, latency: float) -> dict[str, Any]:
    """One approach at one size, in a fresh simulator."""
    from airflow_provider_cloudos.client.sync import CloudOSClient
    from airflow_provider_cloudos.testing import CloudOSSimulator, StateTimings

    with CloudOSSimulator(timings=StateTimings(aborting=aborting)) as sim:
        os.environ["AIRFLOW_CONN_CLOUDOS_DEFAULT"] = sim.connection_json()
        ids = [sim.add_session(name=f"s{i}", status="ready")["_id"] for i in range(n)]
        with CloudOSClient(sim.url, sim.api_key, sim.workspace_id) as client:
            for sid in ids:
                client.pause_session(sid)
        sim.faults.latency = latency
        sim.counters.reset()
        triggers = _triggers(approach, ids, poll)
        serialized = sum(len(json.dumps(trigger.serialize()[1])) for trigger in triggers)
        cpu0, wall0 = time.thread_time(), time.perf_counter()

        async def main() -> list[list[dict[str, Any]]]:
            return await asyncio.gather(*(_drain(trigger) for trigger in triggers))

        results = asyncio.run(main())
        wall, cpu = time.perf_counter() - wall0, time.thread_time() - cpu0
        events = [event for result in results for event in result]
        paused = sum(1 for session in sim.sessions() if session["status"] in ("aborting", "aborted"))
        return {
            "n": n,
            "approach": approach,
            "triggers": len(triggers),
            "serialized_kwargs_bytes": serialized,
            "events": len(events),
            "event_statuses": sorted({event["status"] for event in events}),
            "sessions_paused": paused,
            # Reads of one session and pages of the listing alike: every request reaching CloudOS.
            "requests": sim.counters.requests("get") + sim.counters.requests("list"),
            "tcp_connections": sim.counters.connections_accepted,
            "wall_s": round(wall, 2),
            "loop_cpu_s": round(cpu, 2),
        }


def _sizes(text: str) -> list[int]:
    sizes = [int(part) for part in text.split(",") if part.strip()]
    if not sizes or any(size < 1 for size in sizes):
        raise argparse.ArgumentTypeError(f"--sizes={text!r}: expected positive whole numbers, with commas")
    return sizes


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fleet_wait", description=__doc__)
    parser.add_argument("--sizes", type=_sizes, default=[250, 1000], help="N, comma-separated")
    parser.add_argument("--aborting", type=float, default=2.0, help="seconds a session takes to pause")
    parser.add_argument("--poll", type=float, default=0.5, help="poll interval of the triggers (s)")
    parser.add_argument("--latency", type=float, default=0.02, help="simulator latency per request (s)")
    args = parser.parse_args(argv)
    _isolated_airflow()
    runs: list[dict[str, Any]] = []
    for n in args.sizes:
        for approach in APPROACHES:
            result = measure(approach, n, args.aborting, args.poll, args.latency)
            print(json.dumps(result), flush=True)
            runs.append(result)
    write_result(
        "fleet_wait",
        {
            "parameters": {
                "aborting_s": args.aborting,
                "poll_s": args.poll,
                "latency_s": args.latency,
            },
            "runs": runs,
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
