"""The floor under a poll: what one status read costs the event loop before any trigger logic.

``python -m bench.http_floor [--requests 20000] [--concurrency 64]``

The waiting-at-scale benchmark asks one loop for 5,000 polls a second. Whether that can fit in
one core depends first on what a single HTTP exchange costs in CPython, so this measures it
against the same simulator (in its own process), with the loop kept busy by ``--concurrency``
coroutines sharing one pool, as the triggers of a loop do:

* ``aiohttp alone``: ``GET`` and read the body, nothing else (no JSON, no checks);
* ``provider client``: :meth:`AsyncCloudOSClient.get_session`, i.e. the above plus the endpoint
  description, the retry wrapper, status checks and JSON decoding.

CPU is this process's CPU time over the requests the simulator answered. ``polls/s of one core``
is the rate at which the loop would do nothing else; a loop that must also stay responsive (the
p99 lag target) needs to stay well below it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from bench.common import cpu_seconds, write_result
from bench.simproc import SimulatorProcess

TARGET_POLLS_PER_SECOND = 5000


async def _drive(
    call: Callable[[int], Awaitable[Any]], requests: int, concurrency: int
) -> tuple[float, float]:
    """Run ``requests`` calls over ``concurrency`` coroutines; CPU and wall seconds."""
    counter = iter(range(requests))

    async def worker() -> None:
        for index in counter:
            await call(index)

    cpu, wall = cpu_seconds(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return cpu_seconds() - cpu, time.perf_counter() - wall


async def _measure(
    sim: SimulatorProcess, ids: list[str], requests: int, concurrency: int
) -> list[dict[str, Any]]:
    import aiohttp

    from airflow_provider_cloudos.client.async_client import AsyncCloudOSClient

    connection = json.loads(sim.connection)
    base, key = connection["host"].rstrip("/"), connection["password"]
    workspace = connection["extra"]["workspace_id"]
    urls = [f"{base}/api/v2/interactive-sessions/{session_id}?teamId={workspace}" for session_id in ids]
    headers = {"apikey": key, "Accept": "application/json"}
    results = []
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:

        async def bare(index: int) -> None:
            async with session.get(urls[index % len(urls)], headers=headers) as response:
                await response.read()

        # The floor of one exchange, not the connection's request budget (20 a second by
        # default), which would otherwise set the pace of this whole run.
        client = AsyncCloudOSClient(base, key, workspace, max_requests_per_second=1e9)

        async def provider(index: int) -> None:
            await client.get_session(ids[index % len(ids)])

        for label, call in (("aiohttp alone", bare), ("provider client", provider)):
            await _drive(call, min(2000, requests), concurrency)  # warm-up: connections, caches
            sim.reset()
            server_before = sim.usage()["cpu_seconds"]
            cpu, wall = await _drive(call, requests, concurrency)
            served = sim.counters()["requests"]["get"]
            server_cpu = sim.usage()["cpu_seconds"] - server_before
            per_request = cpu / served
            results.append(
                {
                    "label": label,
                    "requests": served,
                    "concurrency": concurrency,
                    "cpu_us_per_request": round(per_request * 1e6, 1),
                    "polls_per_second_of_one_core": round(1 / per_request),
                    "core_share_at_target": round(TARGET_POLLS_PER_SECOND * per_request, 2),
                    "wall_requests_per_second": round(served / wall),
                    "server_cpu_us_per_request": round(server_cpu / served * 1e6, 1),
                }
            )
        await client.close()
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.http_floor", description=__doc__)
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args(argv)
    with SimulatorProcess(scheduled=3600) as sim:
        ids = sim.add(100)
        runs = asyncio.run(_measure(sim, ids, args.requests, args.concurrency))
    for run in runs:
        print(json.dumps(run), flush=True)
    write_result(
        "http_floor",
        {"parameters": {"target_polls_per_second": TARGET_POLLS_PER_SECOND}, "runs": runs},
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
