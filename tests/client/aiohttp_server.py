"""A throwaway aiohttp server on 127.0.0.1 answering every path with one handler, for client tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def start(handler: Handler) -> tuple[web.AppRunner, str]:
    """Serve ``handler`` on a free loopback port; the runner (to clean up) and the base URL."""
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    return runner, f"http://{host}:{port}"


@asynccontextmanager
async def serving(handler: Handler) -> AsyncIterator[str]:
    """The base URL of a server running ``handler`` for the duration of the block."""
    runner, url = await start(handler)
    try:
        yield url
    finally:
        await runner.cleanup()
