"""The simulator's HTTP layer: aiohttp's low-level server (``aiohttp.web.Server``).

aiohttp does the HTTP/1.1 (keep-alive, pipelining, chunked bodies, ``Expect``, refusing malformed
requests); this module only translates between aiohttp's requests and responses and the plain
values the API handlers use (``messages.py``), counts connections and answers, and drops the
connection when the application answers None (a simulated network fault). The low-level server
is used rather than an ``Application`` because the API routes requests itself: no router or
middleware chain to pay for on each of the benchmarks' thousands of polls a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

from aiohttp import web

from airflow_provider_cloudos.testing.counters import Counters
from airflow_provider_cloudos.testing.messages import HttpRequest, HttpResponse

App = Callable[[HttpRequest], Awaitable[HttpResponse | None]]

#: Longest request line or header line accepted (aiohttp answers 400 beyond it).
MAX_LINE_BYTES = 64 * 1024
MAX_BODY_BYTES = 16 * 1024 * 1024
DEFAULT_BACKLOG = 4096
#: An idle keep-alive connection is closed by the server after this long: in practice never,
#: as the hand-written server before it never did (clients close theirs first).
KEEPALIVE_SECONDS = 24 * 3600.0
#: How long an answered connection reads and discards a body it refused before closing.
LINGER_SECONDS = 1.0
#: Bounds :meth:`HttpServer.close`; answers in flight are cancelled, so it takes a moment only.
CLOSE_TIMEOUT_SECONDS = 5.0
SERVER_NAME = "cloudos-simulator"

_log = logging.getLogger(__name__)


class _BodyTooLarge(Exception):
    pass


def raise_open_file_limit(wanted: int = 65536) -> int:
    """Raise this process's soft limit on open files towards ``wanted`` (best effort).

    Thousands of keep-alive connections need thousands of descriptors, and a benchmark often
    runs its clients in the same process. Returns the soft limit in force afterwards (-1 where
    the platform has no such limit).
    """
    try:
        import resource
    except ImportError:  # pragma: no cover - not on POSIX
        return -1
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


async def _read_body(request: web.BaseRequest) -> bytes:
    """The whole body (``Content-Length`` or chunked), refused beyond :data:`MAX_BODY_BYTES`."""
    if not request.body_exists:
        return b""
    length = request.content_length
    if length is not None and length > MAX_BODY_BYTES:
        raise _BodyTooLarge
    if request.headers.get("Expect", "").lower() == "100-continue":
        await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    chunks: list[bytes] = []
    received = 0
    while chunk := await request.content.readany():
        received += len(chunk)
        if received > MAX_BODY_BYTES:
            raise _BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


async def to_http_request(request: web.BaseRequest) -> HttpRequest:
    """aiohttp's request as the API sees it: raw path, every query value, the headers as sent."""
    split = urlsplit(request.raw_path)
    return HttpRequest(
        method=request.method.upper(),
        path=split.path or "/",
        query=parse_qs(split.query, keep_blank_values=True),
        headers=request.headers,
        body=await _read_body(request),
    )


def to_web_response(response: HttpResponse) -> web.Response:
    """A JSON answer (or a page); a 204 has neither body nor entity headers."""
    headers = {"Server": SERVER_NAME, **response.headers}
    if response.status == 204:
        return web.Response(status=204, headers=headers)
    charset = None if response.content_type == "application/json" else "utf-8"
    return web.Response(
        status=response.status,
        body=response.encoded_body(),
        content_type=response.content_type,
        charset=charset,
        headers=headers,
    )


class _CountingServer(web.Server):
    """aiohttp's protocol factory, counting connections as they open and close."""

    def __init__(
        self,
        handler: Callable[[web.BaseRequest], Awaitable[web.StreamResponse]],
        counters: Counters,
        **kwargs: Any,
    ) -> None:
        super().__init__(handler, **kwargs)
        self._counters = counters
        self.open_connections: set[web.RequestHandler] = set()

    def connection_made(self, handler: web.RequestHandler, transport: asyncio.Transport) -> None:
        super().connection_made(handler, transport)
        self.open_connections.add(handler)
        self._counters.connection_opened()

    def connection_lost(self, handler: web.RequestHandler, exc: BaseException | None = None) -> None:
        super().connection_lost(handler, exc)
        if handler in self.open_connections:
            self.open_connections.discard(handler)
            self._counters.connection_closed()


class HttpServer:
    """Serves ``app`` on ``host:port`` (0 = a free port) from the running event loop."""

    def __init__(
        self,
        app: App,
        counters: Counters,
        host: str = "127.0.0.1",
        port: int = 0,
        backlog: int = DEFAULT_BACKLOG,
    ) -> None:
        self._app = app
        self._counters = counters
        self._host = host
        self._port = port
        self._backlog = backlog
        self._web: _CountingServer | None = None
        self._listener: asyncio.AbstractServer | None = None
        self._in_flight: set[asyncio.Task[Any]] = set()

    async def start(self) -> int:
        """Start listening; returns the bound port."""
        self._web = _CountingServer(
            self._serve,
            self._counters,
            access_log=None,
            logger=_log,
            keepalive_timeout=KEEPALIVE_SECONDS,
            max_line_size=MAX_LINE_BYTES,
            max_field_size=MAX_LINE_BYTES,
            lingering_time=LINGER_SECONDS,
        )
        self._listener = await asyncio.get_running_loop().create_server(
            self._web,
            self._host,
            self._port,
            backlog=self._backlog,
            reuse_address=sys.platform != "win32",
        )
        return int(self._listener.sockets[0].getsockname()[1])

    async def close(self) -> None:
        """Stop listening and end every open connection, including ones mid-request."""
        listener, server = self._listener, self._web
        self._listener = self._web = None
        if listener is not None:
            listener.close()
        if server is not None:
            server.pre_shutdown()  # idle keep-alive connections end now
            for task in list(self._in_flight):
                task.cancel()  # a held or delayed answer is never sent
            await server.shutdown(CLOSE_TIMEOUT_SECONDS)
            await _until(lambda: not server.open_connections, CLOSE_TIMEOUT_SECONDS)
        if listener is not None:
            await listener.wait_closed()

    async def _serve(self, request: web.BaseRequest) -> web.StreamResponse:
        task = asyncio.current_task()
        assert task is not None  # aiohttp runs every handler in a task of its own
        self._in_flight.add(task)
        try:
            try:
                message = await to_http_request(request)
            except _BodyTooLarge:
                return self._answer(HttpResponse(413, {"message": "request body too large"}))
            response = await self._app(message)
        finally:
            self._in_flight.discard(task)
        if response is None:
            # Dropped: closed without a word. The response below then cannot be written, which
            # aiohttp takes for a client that went away, and it ends the connection quietly.
            if request.transport is not None:
                request.transport.close()
            return web.Response(status=499)
        return self._answer(response)

    def _answer(self, response: HttpResponse) -> web.Response:
        self._counters.record_response(response.status)
        return to_web_response(response)


async def _until(done: Callable[[], bool], timeout: float) -> None:
    """Let the loop run callbacks (connections' ``connection_lost``) until ``done`` or timeout."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not done() and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.001)


__all__ = [
    "DEFAULT_BACKLOG",
    "HttpServer",
    "raise_open_file_limit",
    "to_http_request",
    "to_web_response",
]
