"""Many concurrent keep-alive connections are served by the one event-loop thread."""

from __future__ import annotations

import asyncio

from airflow_provider_cloudos.testing import CloudOSSimulator

CONNECTIONS = 300
REQUESTS_PER_CONNECTION = 3


async def _read_answer(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    await reader.readexactly(length)
    return status


async def _poll_concurrently(sim: CloudOSSimulator, session_id: str) -> tuple[list[int], int]:
    request = (
        f"GET /api/v2/interactive-sessions/{session_id}?teamId={sim.workspace_id} HTTP/1.1\r\n"
        f"Host: {sim.host}\r\napikey: {sim.api_key}\r\n\r\n"
    ).encode()
    streams = await asyncio.gather(*(asyncio.open_connection(sim.host, sim.port) for _ in range(CONNECTIONS)))
    statuses: list[int] = []
    try:

        async def poll(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            for _ in range(REQUESTS_PER_CONNECTION):
                writer.write(request)
                await writer.drain()
                statuses.append(await _read_answer(reader))

        await asyncio.wait_for(asyncio.gather(*(poll(r, w) for r, w in streams)), timeout=60)
        # Every connection is still open here: count them while all are held.
        deadline = asyncio.get_running_loop().time() + 10
        while sim.counters.connections_open < CONNECTIONS and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.01)
        held_open = sim.counters.connections_open
    finally:
        for _, writer in streams:
            writer.close()
    return statuses, held_open


def test_three_hundred_keep_alive_connections_are_served(sim: CloudOSSimulator):
    session = sim.add_session(status="ready")
    statuses, held_open = asyncio.run(_poll_concurrently(sim, session["_id"]))
    assert statuses == [200] * (CONNECTIONS * REQUESTS_PER_CONNECTION)
    assert held_open == CONNECTIONS
    assert sim.counters.connections_accepted == CONNECTIONS
    assert sim.counters.requests("get") == CONNECTIONS * REQUESTS_PER_CONNECTION
