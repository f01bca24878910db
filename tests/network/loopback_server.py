"""One way to run a test server on 127.0.0.1 in a thread, shared by the proxy, TLS and misbehaving servers.

Each of them is a ``socketserver`` with its own handler; what they have in common is the life
around it: bind a free loopback port, serve from a daemon thread while the ``with`` block runs,
and on leaving tell slow handlers to give up (``stopping``) before shutting down, so a test that
fails midway leaves no thread or socket behind.
"""

from __future__ import annotations

import socketserver
import threading
from types import TracebackType
from typing import Self


class LoopbackServer:
    """Serve ``server`` from a daemon thread named ``name`` for the length of a ``with`` block."""

    def __init__(self, server: socketserver.BaseServer, name: str) -> None:
        self.stopping = threading.Event()
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])  # type: ignore[index]

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
