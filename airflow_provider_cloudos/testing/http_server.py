"""A small HTTP/1.1 server on asyncio streams, enough for JSON APIs and thousands of pollers.

Why hand-written: the standard library's ``http.server`` spends a thread per connection, and
the benchmarks hold thousands of keep-alive connections open; nothing outside the standard
library may be required by the simulator. One coroutine per connection reads a request head
(request line and headers, at most 64 KiB), a ``Content-Length`` or chunked body, calls the
application, and writes the answer. Connections stay open (HTTP/1.1 default) until the client
closes them or sends ``Connection: close``; HTTP/1.0 clients get keep-alive only on request.
The application may answer None to have the connection closed without any response (used to
simulate dropped connections).
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

from airflow_provider_cloudos.testing.counters import Counters
from airflow_provider_cloudos.testing.messages import HttpRequest, HttpResponse

App = Callable[[HttpRequest], Awaitable[HttpResponse | None]]

MAX_HEAD_BYTES = 64 * 1024
MAX_BODY_BYTES = 16 * 1024 * 1024
DEFAULT_BACKLOG = 4096
LINGER_SECONDS = 1.0
SERVER_NAME = "cloudos-simulator"


class _BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


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


def parse_head(head: bytes) -> tuple[HttpRequest, bool]:
    """Parse a request head (ending in a blank line) into a request and its keep-alive wish."""
    lines = head.rstrip(b"\r\n").split(b"\r\n")
    parts = lines[0].decode("latin-1").split(" ")
    if len(parts) != 3 or not parts[0].isalpha() or not parts[2].startswith("HTTP/1."):
        raise _BadRequest(400, "malformed request line")
    method, target, version = parts
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, separator, value = line.partition(b":")
        if not separator or not name.strip():
            raise _BadRequest(400, "malformed header line")
        key = name.strip().lower().decode("latin-1")
        text = value.strip().decode("latin-1")
        headers[key] = f"{headers[key]}, {text}" if key in headers else text
    split = urlsplit(target)
    request = HttpRequest(
        method=method.upper(),
        path=split.path or "/",
        query=parse_qs(split.query, keep_blank_values=True),
        headers=headers,
    )
    connection = headers.get("connection", "").lower()
    keep_alive = "keep-alive" in connection if version == "HTTP/1.0" else "close" not in connection
    return request, keep_alive


def encode_response(response: HttpResponse, keep_alive: bool) -> bytes:
    """Status line, headers and body; a 204 has neither body nor entity headers."""
    try:
        reason = HTTPStatus(response.status).phrase
    except ValueError:
        reason = "Unknown"
    lines = [f"HTTP/1.1 {response.status} {reason}", f"Server: {SERVER_NAME}"]
    body = b""
    if response.status != 204:
        body = response.encoded_body()
        lines.append("Content-Type: application/json")
        lines.append(f"Content-Length: {len(body)}")
    lines.extend(f"{name}: {value}" for name, value in response.headers.items())
    lines.append(f"Connection: {'keep-alive' if keep_alive else 'close'}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


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
        self._server: asyncio.AbstractServer | None = None
        self._connections: set[asyncio.Task[None]] = set()

    async def start(self) -> int:
        """Start listening; returns the bound port."""
        self._server = await asyncio.start_server(
            self._serve_connection,
            self._host,
            self._port,
            backlog=self._backlog,
            limit=MAX_HEAD_BYTES,
            reuse_address=sys.platform != "win32",
        )
        return int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        """Stop listening and end every open connection, including ones mid-request."""
        if self._server is not None:
            self._server.close()
        tasks = list(self._connections)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    async def _serve_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._connections.add(task)
        self._counters.connection_opened()
        try:
            while await self._serve_one(reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            self._counters.connection_closed()
            if task is not None:
                self._connections.discard(task)
            writer.close()
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await writer.wait_closed()

    async def _serve_one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Serve one request; False when the connection must end."""
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return False  # the client closed between requests: the normal end of keep-alive
        except asyncio.LimitOverrunError:
            await self._reject(reader, writer, 431, "request head too large")
            return False
        try:
            request, keep_alive = parse_head(head)
            if request.headers.get("expect", "").lower() == "100-continue":
                writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            request.body = await self._read_body(reader, request)
        except _BadRequest as error:
            await self._reject(reader, writer, error.status, error.message)
            return False
        response = await self._app(request)
        if response is None:
            return False
        self._counters.record_response(response.status)
        writer.write(encode_response(response, keep_alive))
        await writer.drain()
        return keep_alive

    @staticmethod
    async def _read_body(reader: asyncio.StreamReader, request: HttpRequest) -> bytes:
        if "chunked" in request.headers.get("transfer-encoding", "").lower():
            return await _read_chunked(reader)
        length_text = request.headers.get("content-length")
        if length_text is None:
            return b""
        try:
            length = int(length_text)
        except ValueError:
            raise _BadRequest(400, "invalid Content-Length") from None
        if length < 0:
            raise _BadRequest(400, "invalid Content-Length")
        if length > MAX_BODY_BYTES:
            raise _BadRequest(413, "request body too large")
        return await reader.readexactly(length) if length else b""

    async def _reject(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, status: int, message: str
    ) -> None:
        """Answer an unusable request and end the connection gracefully.

        Closing a socket that still has unread input makes the kernel send a reset, which can
        destroy the answer before the client reads it; so the write side is shut first and the
        rest of the input is read and discarded for a moment ("lingering close").
        """
        self._counters.record_response(status)
        writer.write(encode_response(HttpResponse(status, {"message": message}), keep_alive=False))
        with contextlib.suppress(ConnectionError, OSError, asyncio.TimeoutError):
            await writer.drain()
            if writer.can_write_eof():
                writer.write_eof()
            await asyncio.wait_for(_discard_input(reader), LINGER_SECONDS)


async def _discard_input(reader: asyncio.StreamReader) -> None:
    received = 0
    while received < MAX_BODY_BYTES:
        try:
            chunk = await reader.read(65536)
        except asyncio.LimitOverrunError:
            return
        if not chunk:
            return
        received += len(chunk)


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while True:
        size_line = await reader.readuntil(b"\r\n")
        try:
            size = int(size_line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise _BadRequest(400, "invalid chunk size") from None
        if size == 0:
            while await reader.readuntil(b"\r\n") != b"\r\n":
                pass  # trailers are read and ignored
            return b"".join(chunks)
        total += size
        if total > MAX_BODY_BYTES:
            raise _BadRequest(413, "request body too large")
        chunks.append(await reader.readexactly(size))
        await reader.readexactly(2)


__all__ = ["DEFAULT_BACKLOG", "HttpServer", "encode_response", "parse_head", "raise_open_file_limit"]
