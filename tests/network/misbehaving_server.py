"""A local HTTP server on 127.0.0.1 that answers every request badly, in one chosen way.

Written on raw sockets, so it can do what a well-behaved server framework will not: stall after
the headers, drip a body (or the headers) a byte at a time, announce or stream a body over any
sane size, reset the connection. The other behaviours (a redirect off-host, HTML, non-JSON, JSON of the wrong
shape, statuses nobody documented) are ordinary answers a CloudOS URL pointing at the wrong place
gives. Stalls and drips end when the server stops (or after ``MAX_STALL_SECONDS``), so a client
that does not keep its deadline fails its test instead of hanging it.
"""

from __future__ import annotations

import json
import os
import socket
import socketserver
import struct
import threading
from collections.abc import Callable

from loopback_server import LoopbackServer

#: How long a stall or a drip lasts at most: far beyond any deadline the tests give. The
#: behavioural mutants (scripts/behavioural_mutants.py) shorten it: a client that ignores its
#: deadline is then let go sooner, and its test fails in seconds rather than a minute.
MAX_STALL_SECONDS = float(os.environ.get("CLOUDOS_TEST_MAX_STALL_SECONDS", "60"))
SESSION_ID = "0123456789abcdef01234567"


def _head(status: str, headers: dict[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status}", *(f"{name}: {value}" for name, value in headers.items()), "", ""]
    return "\r\n".join(lines).encode()


def _answer(status: str, body: bytes, content_type: str = "application/json", **headers: str) -> bytes:
    fields = {"Content-Type": content_type, "Content-Length": str(len(body)), "Connection": "close"}
    fields.update({name.replace("_", "-"): value for name, value in headers.items()})
    return _head(status, fields) + body


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def handle(self) -> None:
        length = 0
        request_line = self.rfile.readline(65536)
        if not request_line:
            return
        while True:
            line = self.rfile.readline(65536)
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
        if length:
            self.rfile.read(length)
        self.server.owner.count_request()
        getattr(self, f"_{self.server.owner.behaviour}")()

    # -- the behaviours ---------------------------------------------------------------------

    def _wait(self, seconds: float = MAX_STALL_SECONDS) -> bool:
        """Sleep until the server stops; True when it stopped."""
        return self.server.owner.stopping.wait(seconds)

    def _stall(self) -> None:
        self.wfile.write(_head("200 OK", {"Content-Type": "application/json", "Content-Length": "100"}))
        self._wait()

    def _drip(self) -> None:
        self.wfile.write(_head("200 OK", {"Content-Type": "application/json", "Content-Length": "100000"}))
        self._drip_bytes(lambda: b" ")

    def _drip_chunked(self) -> None:
        self.wfile.write(
            _head("200 OK", {"Content-Type": "application/json", "Transfer-Encoding": "chunked"})
        )
        self._drip_bytes(lambda: b"1\r\n \r\n")

    def _drip_headers(self) -> None:
        """The status line, then header bytes one at a time: each read of the headers gets a byte
        long before any read timeout, so only a total deadline over the headers ends it."""
        self.wfile.write(b"HTTP/1.1 200 OK\r\nX-Slowly: ")
        self._drip_bytes(lambda: b"x")

    def _drip_bytes(self, piece: Callable[[], bytes]) -> None:
        for _ in range(int(MAX_STALL_SECONDS / 0.05)):
            try:
                self.wfile.write(piece())
                self.wfile.flush()
            except OSError:
                self.server.owner.client_left.set()
                return
            if self._wait(0.05):
                return

    def _too_large_announced(self) -> None:
        self.wfile.write(
            _head("200 OK", {"Content-Type": "application/json", "Content-Length": str(50 * 1024 * 1024)})
        )
        self.wfile.write(b'{"_id": "')
        self._wait()

    def _too_large_streamed(self) -> None:
        self.wfile.write(
            _head("200 OK", {"Content-Type": "application/json", "Transfer-Encoding": "chunked"})
        )
        piece = b"x" * 65536
        chunk = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
        for _ in range(50 * 16):  # 50 MB at most
            try:
                self.wfile.write(chunk)
            except OSError:
                return
            if self.server.owner.stopping.is_set():
                return

    def _reset(self) -> None:
        # SO_LINGER with a zero timeout: close() sends a RST instead of a FIN.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    def _redirect(self) -> None:
        self.wfile.write(
            _answer(
                "302 Found",
                b"",
                Location=f"http://elsewhere.invalid/api/v2/interactive-sessions/{SESSION_ID}",
            )
        )

    def _html(self) -> None:
        self.wfile.write(
            _answer("200 OK", b"<!DOCTYPE html><html><body>Please sign in</body></html>", "text/html")
        )

    def _not_json(self) -> None:
        self.wfile.write(_answer("200 OK", b"OK, all fine here", "text/plain"))

    def _json_list(self) -> None:
        self.wfile.write(_answer("200 OK", b"[1, 2, 3]"))

    def _json_without_status(self) -> None:
        self.wfile.write(_answer("200 OK", json.dumps({"result": "maybe"}).encode()))

    def _unknown_session_status(self) -> None:
        body = json.dumps({"_id": SESSION_ID, "name": "odd", "status": "exploding"}).encode()
        self.wfile.write(_answer("200 OK", body))

    def _status_418(self) -> None:
        self.wfile.write(_answer("418 I'm a teapot", b'{"message": "short and stout"}'))

    def _status_599(self) -> None:
        self.wfile.write(_answer("599 Network Connect Timeout", b"<html>upstream</html>", "text/html"))


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: MisbehavingServer


class MisbehavingServer(LoopbackServer):
    """``with MisbehavingServer("stall") as server:`` then point a client at ``server.url``."""

    BEHAVIOURS = (
        "stall",
        "drip",
        "drip_chunked",
        "drip_headers",
        "too_large_announced",
        "too_large_streamed",
        "reset",
        "redirect",
        "html",
        "not_json",
        "json_list",
        "json_without_status",
        "unknown_session_status",
        "status_418",
        "status_599",
    )

    def __init__(self, behaviour: str) -> None:
        if behaviour not in self.BEHAVIOURS:
            raise ValueError(f"unknown behaviour {behaviour!r}")
        self.behaviour = behaviour
        self._lock = threading.Lock()
        self._requests = 0
        #: Set when a client hung up while an answer was still dripping: it kept its deadline.
        #: A client that does not is only let go when the drip ends (``MAX_STALL_SECONDS``).
        self.client_left = threading.Event()
        server = _Server(("127.0.0.1", 0), _Handler)
        server.owner = self
        super().__init__(server, "misbehaving")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def count_request(self) -> None:
        with self._lock:
            self._requests += 1

    @property
    def requests(self) -> int:
        with self._lock:
            return self._requests
