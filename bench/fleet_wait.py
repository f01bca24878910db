"""One CloudOSSessionTrigger per session vs one CloudOSSessionsTrigger for the batch.

Both wait for N sessions (paused just before) to become paused, against the local simulator,
in one event loop like a triggerer. Reports requests, TCP connections, wall time and the CPU
time of the event-loop thread (the simulator runs in its own thread).

    python -m bench.fleet_wait N ABORTING_S POLL_S LATENCY_S   # e.g. 1000 2 0.5 0.02

Prints one JSON line per approach; the figures in BENCHMARKS.md come from these lines.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import tempfile
import time

home = tempfile.mkdtemp(prefix="fleetbench-")
os.environ["AIRFLOW_HOME"] = home
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "True"
os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{home}/airflow.db"
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"

logging.disable(logging.WARNING)

from airflow_provider_cloudos.client.sync import CloudOSClient  # noqa: E402
from airflow_provider_cloudos.testing import CloudOSSimulator, StateTimings  # noqa: E402
from airflow_provider_cloudos.triggers.fleet import CloudOSSessionsTrigger  # noqa: E402
from airflow_provider_cloudos.triggers.sessions import CloudOSSessionTrigger  # noqa: E402

N = int(sys.argv[1]) if len(sys.argv) > 1 else 250
ABORTING = float(sys.argv[2]) if len(sys.argv) > 2 else 2.0
POLL = float(sys.argv[3]) if len(sys.argv) > 3 else 0.5
LATENCY = float(sys.argv[4]) if len(sys.argv) > 4 else 0.0


async def drain(trigger) -> list[dict]:
    return [event.payload async for event in trigger.run()]


def setup(sim: CloudOSSimulator) -> list[str]:
    ids = [sim.add_session(name=f"s{i}", status="ready")["_id"] for i in range(N)]
    with CloudOSClient(sim.url, sim.api_key, sim.workspace_id) as client:
        for sid in ids:
            client.abort_session(sid)
    return ids


def run(label: str, make) -> dict:
    with CloudOSSimulator(timings=StateTimings(aborting=ABORTING)) as sim:
        os.environ["AIRFLOW_CONN_CLOUDOS_DEFAULT"] = sim.connection_json()
        ids = setup(sim)
        sim.faults.latency = LATENCY
        sim.counters.reset()
        triggers = make(ids)
        serialized = sum(len(json.dumps(t.serialize()[1])) for t in triggers)
        cpu0, wall0 = time.thread_time(), time.perf_counter()

        async def main():
            return await asyncio.gather(*(drain(t) for t in triggers))

        results = asyncio.run(main())
        wall, cpu = time.perf_counter() - wall0, time.thread_time() - cpu0
        events = [e for r in results for e in r]
        assert all(s["status"] in ("aborting", "aborted") for s in sim.sessions())
        return {
            "scenario": label,
            "triggers": len(triggers),
            "serialized_kwargs_bytes": serialized,
            "events": len(events),
            "event_statuses": sorted({e["status"] for e in events}),
            "get_requests": sim.counters.requests("get"),
            "tcp_connections": sim.counters.connections_accepted,
            "wall_s": round(wall, 2),
            "loop_cpu_s": round(cpu, 2),
        }


def per_session(ids):
    end = time.time() + 120
    return [
        CloudOSSessionTrigger(session_id=sid, end_time=end, target_statuses=["paused"], poll_interval=POLL)
        for sid in ids
    ]


def batch(ids):
    return [
        CloudOSSessionsTrigger(
            session_ids=ids, end_time=time.time() + 120, target_statuses=["paused"], poll_interval=POLL
        )
    ]


print(f"N={N} aborting={ABORTING}s poll={POLL}s latency={LATENCY}s")
for label, make in (("one trigger per session", per_session), ("one batch trigger", batch)):
    print(json.dumps(run(label, make)))
