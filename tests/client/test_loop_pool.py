from __future__ import annotations

import asyncio
import threading
from typing import Any

import certifi
import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp_server import serving, start

from airflow_provider_cloudos.client import AsyncCloudOSClient, loop_pool
from airflow_provider_cloudos.client.async_client import ssl_option

WS = "5c6d3e9bd954e800b23f8c62"
SID = "0123456789abcdef01234567"


class Recorder:
    """Answers every request with a session and a cookie, and remembers who asked on which socket."""

    def __init__(self) -> None:
        self.keys: list[str | None] = []
        self.cookies: list[str | None] = []
        self.transports: list[Any] = []

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.keys.append(request.headers.get("apikey"))
        self.cookies.append(request.headers.get("Cookie"))
        if request.transport not in self.transports:
            self.transports.append(request.transport)
        response = web.json_response({"_id": SID, "status": "ready"})
        response.set_cookie("tracking", str(len(self.keys)))
        return response


@pytest_asyncio.fixture
async def api():
    recorder = Recorder()
    async with serving(recorder.handle) as url:
        yield recorder, url


@pytest.mark.asyncio
async def test_clients_of_one_loop_share_one_keep_alive_connection(api):
    recorder, base = api
    clients = [AsyncCloudOSClient(base, f"KEY-{i}", WS) for i in range(5)]
    try:
        for client in clients:
            await client.get_session(SID)
        assert loop_pool.users() == 5
    finally:
        for client in clients:
            await client.close()
    assert len(recorder.transports) == 1


@pytest.mark.asyncio
async def test_each_request_carries_its_own_clients_key_and_no_cookie(api):
    recorder, base = api
    first, second = AsyncCloudOSClient(base, "KEY-A", WS), AsyncCloudOSClient(base, "KEY-B", WS)
    async with first, second:
        await first.get_session(SID)
        await second.get_session(SID)
        await first.get_session(SID)
    assert recorder.keys == ["KEY-A", "KEY-B", "KEY-A"]
    # The server set a cookie on every answer; a shared jar would hand KEY-A's cookie to KEY-B.
    assert recorder.cookies == [None, None, None]


@pytest.mark.asyncio
async def test_the_last_client_out_closes_the_pool_and_the_next_one_opens_a_new_one(api):
    _, base = api
    first, second = AsyncCloudOSClient(base, "K1", WS), AsyncCloudOSClient(base, "K2", WS)
    await first.get_session(SID)
    await second.get_session(SID)
    shared = first._session
    assert shared is not None
    assert shared is second._session
    await first.close()
    assert loop_pool.users() == 1
    assert not shared.closed
    await second.close()
    assert loop_pool.users() == 0
    assert shared.closed
    await second.close()  # closing twice counts out once
    assert loop_pool.users() == 0
    async with AsyncCloudOSClient(base, "K3", WS) as third:
        await third.get_session(SID)
        assert third._session is not shared
        assert loop_pool.users() == 1


@pytest.mark.asyncio
async def test_a_client_that_is_never_used_never_joins_the_pool(api):
    _, base = api
    async with AsyncCloudOSClient(base, "K", WS):
        assert loop_pool.users() == 0


def test_each_event_loop_has_its_own_pool(api_in_thread):
    base = api_in_thread

    async def one_wait() -> object:
        async with AsyncCloudOSClient(base, "K", WS) as client:
            await client.get_session(SID)
            return client._session

    first = asyncio.run(one_wait())
    second = asyncio.run(one_wait())
    assert first is not second


@pytest.fixture
def api_in_thread():
    """The recorder served from its own loop in a thread, for tests that run several loops."""
    loop = asyncio.new_event_loop()
    runner, url = loop.run_until_complete(start(Recorder().handle))
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield url
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.run_until_complete(runner.cleanup())
    loop.close()


def test_clients_trusting_one_bundle_share_one_tls_context():
    # The context is part of aiohttp's connection key: one per bundle lets such clients share sockets.
    assert ssl_option(certifi.where()) is ssl_option(certifi.where())


class Gate:
    """Holds every request until released, counting those in flight and the sockets they came on."""

    def __init__(self) -> None:
        self.open = asyncio.Event()
        self.in_flight = 0
        self.peak = 0
        self.transports: set[int] = set()
        self.changed = asyncio.Condition()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.transports.add(id(request.transport))
        async with self.changed:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
            self.changed.notify_all()
        await self.open.wait()
        self.in_flight -= 1
        return web.json_response({"_id": SID, "status": "ready"})

    async def until(self, condition: Any, limit: float) -> bool:
        """True once ``condition()`` holds; False after ``limit`` seconds (it never held)."""
        async with self.changed:
            try:
                await asyncio.wait_for(self.changed.wait_for(condition), timeout=limit)
            except TimeoutError:
                return False
        return True


@pytest.mark.asyncio
async def test_one_loop_holds_at_most_64_connections_and_queues_the_rest():
    assert loop_pool.POOL_CONNECTIONS == 64, "the cap docs/ and BENCHMARKS.md promise"
    gate = Gate()
    async with serving(gate.handle) as base:
        clients = [AsyncCloudOSClient(base, f"KEY-{i}", WS) for i in range(100)]
        try:
            calls = [asyncio.create_task(client.get_session(SID)) for client in clients]
            assert await gate.until(lambda: gate.in_flight >= 64, limit=20), gate.in_flight
            # A 65th socket would arrive within milliseconds; give it ample time to show up.
            more = await gate.until(lambda: gate.in_flight > 64, limit=0.5)
            assert not more, f"{gate.in_flight} requests on as many sockets: the cap is 64"
            gate.open.set()
            answers = await asyncio.wait_for(asyncio.gather(*calls), timeout=20)
        finally:
            gate.open.set()
            for client in clients:
                await client.close()
    assert [answer["_id"] for answer in answers] == [SID] * 100, "the other 36 queued, none failed"
    assert gate.peak == 64
    assert len(gate.transports) == 64
