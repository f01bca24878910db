"""Benchmark 4: from the session's state change to the end of the wait, against the poll interval.

``python -m bench.detection_latency [--intervals 1,5] [--samples 20]``

For each poll interval P, ``--samples`` sessions are added at once in the ``initialising``
state, session i becoming ready ``max(2, 2P) + i*P/samples`` seconds later, so the state changes
fall evenly across one poll period, after every wait's first look: a trigger's looks fall on the
multiples of P on the clock (so that a triggerer's waits meet in one round of the shared reader),
the first at least one P after it starts, so a change before it would be measured from before the
wait polled at all. Each is waited for by a ``CloudOSSessionTrigger`` (all in one
event loop, as in the triggerer) and, separately, by the hook's blocking wait (the sync
operators' and poke sensor's path), one thread each. The simulator runs in this process and
shares its monotonic clock, so the instant of each state change is known exactly.

Latency = wait completed - state changed. Target: at most P + 1 s. For a deferrable task the
triggerer's event still has to reach a worker (scheduler and executor latency, seconds in
practice) before ``execute_complete`` runs; that part belongs to Airflow and is not measured.
Writes ``bench/results/detection_latency.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any

from bench.common import percentile, write_result
from bench.taskrun import first_event

OFFSET_SECONDS = 2.0


def _delays(interval: float, samples: int) -> list[float]:
    offset = max(OFFSET_SECONDS, 2 * interval)
    return [offset + index * interval / samples for index in range(samples)]


def _summary(latencies: list[float], interval: float) -> dict[str, Any]:
    return {
        "samples": len(latencies),
        "min_s": round(min(latencies), 3),
        "p50_s": round(percentile(latencies, 50) or 0.0, 3),
        "p90_s": round(percentile(latencies, 90) or 0.0, 3),
        "max_s": round(max(latencies), 3),
        "target_max_s": interval + 1.0,
        "within_target": max(latencies) <= interval + 1.0,
    }


def measure_trigger(sim: Any, interval: float, samples: int) -> dict[str, Any]:
    from airflow_provider_cloudos.testing import StateTimings
    from airflow_provider_cloudos.triggers.sessions import CloudOSSessionTrigger

    delays = _delays(interval, samples)

    async def run() -> list[float]:
        changes: list[float] = []
        waits = []
        for delay in delays:
            sim.set_timings(StateTimings(initialising=delay))
            added = time.monotonic()
            session_id = sim.add_session(name="latency", status="initialising")["_id"]
            changes.append(added + delay)
            trigger = CloudOSSessionTrigger(
                session_id=session_id, end_time=time.time() + 120, poll_interval=interval
            )
            waits.append(asyncio.ensure_future(_timed(trigger)))
        finished = await asyncio.gather(*waits)
        return [done - change for done, change in zip(finished, changes, strict=True)]

    async def _timed(trigger: Any) -> float:
        event = await first_event(trigger)
        if event.get("status") != "success":
            raise RuntimeError(f"unexpected event {event}")
        return time.monotonic()

    return _summary(asyncio.run(run()), interval)


def measure_blocking(sim: Any, interval: float, samples: int) -> dict[str, Any]:
    from airflow_provider_cloudos.hooks.cloudos import CloudOSHook
    from airflow_provider_cloudos.testing import StateTimings

    delays = _delays(interval, samples)
    latencies: list[float] = [0.0] * samples
    threads = []
    for index, delay in enumerate(delays):
        sim.set_timings(StateTimings(initialising=delay))
        added = time.monotonic()
        session_id = sim.add_session(name="latency", status="initialising")["_id"]
        change = added + delay

        def wait(index: int = index, session_id: str = session_id, change: float = change) -> None:
            CloudOSHook().wait_for_status(session_id, "running", timeout=120, poll_interval=interval)
            latencies[index] = time.monotonic() - change

        thread = threading.Thread(target=wait)
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join()
    return _summary(latencies, interval)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.detection_latency", description=__doc__)
    parser.add_argument("--intervals", default="1,5")
    parser.add_argument("--samples", type=int, default=20)
    args = parser.parse_args(argv)
    from airflow_provider_cloudos.testing import CloudOSSimulator

    results = []
    with CloudOSSimulator() as sim:
        os.environ["AIRFLOW_CONN_CLOUDOS_DEFAULT"] = sim.connection_json()
        for interval in (float(part) for part in args.intervals.split(",")):
            for kind, measure in (("trigger", measure_trigger), ("blocking wait", measure_blocking)):
                print(f"-- {kind}, poll interval {interval:g} s", flush=True)
                figures = {"wait": kind, "poll_interval_s": interval, **measure(sim, interval, args.samples)}
                print(figures, flush=True)
                results.append(figures)
    write_result("detection_latency", {"results": results})
    return 0


if __name__ == "__main__":
    sys.exit(main())
