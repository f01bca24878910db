"""How many objects the garbage collector tracks per waiting trigger (why full collections are slow).

``python -m bench.trigger_objects [--n 1000]``

Starts N ``CloudOSSessionTrigger`` runs in one loop against the simulator (in its own process),
and once they are all waiting counts the objects ``gc.get_objects()`` sees, against the count
before they started, by type. A full (generation 2) collection walks every one of them, so this
is what makes each full collection at N = 5,000 take hundreds of milliseconds.
Writes ``bench/results/trigger_objects.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import gc
import os
import sys
import time
from collections.abc import Sequence
from typing import Any

from bench.common import write_result
from bench.simproc import SimulatorProcess
from bench.taskrun import first_event


async def _count(ids: list[str], settle: float) -> dict[str, Any]:
    from airflow_provider_cloudos.triggers.sessions import CloudOSSessionTrigger

    gc.collect()
    before = collections.Counter(type(item).__qualname__ for item in gc.get_objects())
    tasks = [
        asyncio.create_task(
            first_event(
                CloudOSSessionTrigger(session_id=session_id, end_time=time.time() + 120, poll_interval=1.0)
            )
        )
        for session_id in ids
    ]
    await asyncio.sleep(settle)
    gc.collect()
    after = collections.Counter(type(item).__qualname__ for item in gc.get_objects())
    await asyncio.gather(*tasks)
    total_before, total_after = sum(before.values()), sum(after.values())
    growth = {name: (after[name] - before.get(name, 0)) / len(ids) for name in after}
    top = sorted(growth.items(), key=lambda item: -item[1])[:15]
    return {
        "n": len(ids),
        "tracked_objects_before": total_before,
        "tracked_objects_while_waiting": total_after,
        "tracked_objects_per_trigger": round((total_after - total_before) / len(ids), 1),
        "top_types_per_trigger": {name: round(count, 1) for name, count in top},
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.trigger_objects", description=__doc__)
    parser.add_argument("--n", type=int, default=1000)
    args = parser.parse_args(argv)
    with SimulatorProcess(scheduled=4.0, setup=4.0, initialising=4.0) as sim:
        os.environ["AIRFLOW_CONN_CLOUDOS_DEFAULT"] = sim.connection
        warm = sim.add(1, status="ready", name="warm")
        asyncio.run(_count(warm, 0.1))
        ids = sim.add(args.n, status="scheduled", name="objects")
        result = asyncio.run(_count(ids, settle=5.0))
    print(result, flush=True)
    write_result("trigger_objects", result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
