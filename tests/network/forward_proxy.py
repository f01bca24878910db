"""A small HTTP forward proxy on 127.0.0.1 that counts what goes through it.

Real enough for the provider's clients: ``requests`` and aiohttp send an http target to a proxy
as an absolute-URI request (``GET http://host:port/path HTTP/1.1``), which this proxy forwards
with its own connection and answers with the target's response; an https target arrives as
``CONNECT host:port``, which it tunnels. Each request is recorded (method, target, whether it
carried ``Proxy-Authorization``) so a test can prove a call went through it, or did not.

``credentials`` makes it demand Basic proxy authentication (407 otherwise); ``echo_headers`` makes
its error pages repeat the request's headers, as some proxies do, so a test can prove that the
API key in them never reaches an error message.
"""

from __future__ import annotations

import base64
import http.client
import select
import socket
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from loopback_server import LoopbackServer

#: Headers about the hop to the proxy, not for the target.
_HOP_HEADERS = frozenset(
    {"proxy-authorization", "proxy-connection", "connection", "keep-alive", "transfer-encoding", "te"}
)


@dataclass(frozen=True)
class Passage:
    """One request the proxy handled."""

    method: str
    target: str
    authenticated: bool


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    #: Idle keep-alive connections end after this, so stopping the proxy leaves no thread behind.
    timeout = 5
    server: _ProxyServer

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the test output is for the tests."""

    def _authorized(self) -> bool:
        expected = self.server.owner.credentials
        if expected is None:
            return True
        token = base64.b64encode(f"{expected[0]}:{expected[1]}".encode()).decode()
        return self.headers.get("Proxy-Authorization", "") == f"Basic {token}"

    def _record(self) -> None:
        self.server.owner.record(Passage(self.command, self.path, "Proxy-Authorization" in self.headers))

    def _error(self, status: int, reason: str, extra: dict[str, str] | None = None) -> None:
        text = f"<html><body><h1>{status} {reason}</h1>"
        if self.server.owner.echo_headers:
            text += "<pre>" + "".join(f"{name}: {value}\n" for name, value in self.headers.items()) + "</pre>"
        body = (text + "</body></html>").encode()
        self.send_response(status, reason)
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _forward(self) -> None:
        self._record()
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        if not self._authorized():
            self._error(407, "Proxy Authentication Required", {"Proxy-Authenticate": 'Basic realm="test"'})
            return
        target = urlsplit(self.path)
        if target.scheme != "http" or not target.hostname:
            self._error(400, "Bad Request")
            return
        path = target.path + (f"?{target.query}" if target.query else "")
        headers = {name: value for name, value in self.headers.items() if name.lower() not in _HOP_HEADERS}
        upstream = http.client.HTTPConnection(target.hostname, target.port or 80, timeout=30)
        try:
            upstream.request(self.command, path or "/", body=body, headers=headers)
            answer = upstream.getresponse()
            content = answer.read()
        except OSError:
            self._error(502, "Bad Gateway")
            return
        finally:
            upstream.close()
        self.send_response(answer.status, answer.reason)
        for name, value in answer.getheaders():
            if name.lower() not in _HOP_HEADERS and name.lower() != "content-length":
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _forward

    def do_CONNECT(self) -> None:
        self._record()
        if not self._authorized():
            self._error(407, "Proxy Authentication Required", {"Proxy-Authenticate": 'Basic realm="test"'})
            return
        host, _, port = self.path.rpartition(":")
        try:
            upstream = socket.create_connection((host, int(port)), timeout=10)
        except (OSError, ValueError):
            self._error(502, "Bad Gateway")
            return
        self.send_response(200, "Connection Established")
        self.end_headers()
        self._tunnel(self.connection, upstream)
        self.close_connection = True

    def _tunnel(self, client: socket.socket, upstream: socket.socket) -> None:
        """Copy bytes both ways until either side closes or the proxy stops."""
        stopping = self.server.owner.stopping
        with upstream:
            while not stopping.is_set():
                ready, _, _ = select.select([client, upstream], [], [], 0.2)
                for source in ready:
                    data = source.recv(65536)
                    if not data:
                        return
                    (upstream if source is client else client).sendall(data)


class _ProxyServer(ThreadingHTTPServer):
    daemon_threads = True
    owner: ForwardProxy


class ForwardProxy(LoopbackServer):
    """Start with ``with ForwardProxy() as proxy:``; ``proxy.url`` is what clients are given."""

    def __init__(self, *, credentials: tuple[str, str] | None = None, echo_headers: bool = False) -> None:
        self.credentials = credentials
        self.echo_headers = echo_headers
        self._lock = threading.Lock()
        self._passages: list[Passage] = []
        server = _ProxyServer(("127.0.0.1", 0), _Handler)
        server.owner = self
        super().__init__(server, "forward-proxy")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def record(self, passage: Passage) -> None:
        with self._lock:
            self._passages.append(passage)

    @property
    def passages(self) -> list[Passage]:
        with self._lock:
            return list(self._passages)

    def count(self, method: str | None = None, path_part: str = "") -> int:
        """Requests with this method (any when None) and a target containing ``path_part``."""
        return sum(
            1
            for passage in self.passages
            if (method is None or passage.method == method) and path_part in passage.target
        )
