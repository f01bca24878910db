"""The request and response values passed between the HTTP layer and the API handlers.

Keeping them plain lets the API be exercised without sockets and the server without the API.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass
class HttpRequest:
    """``path`` is the raw (still percent-encoded) path; ``headers`` look names up case-insensitively."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: Mapping[str, str]
    body: bytes = b""

    def param(self, name: str) -> str | None:
        """The first value of a query parameter, or None when absent."""
        values = self.query.get(name)
        return values[0] if values else None


@dataclass
class HttpResponse:
    """``body`` is JSON-encoded when not None (text as it is, for another ``content_type``, such
    as a session's HTML page); 204 must carry None."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"

    def encoded_body(self) -> bytes:
        if self.body is None:
            return b""
        if self.content_type != "application/json":
            return str(self.body).encode("utf-8")
        return json.dumps(self.body, separators=(",", ":")).encode()


class ApiError(Exception):
    """An error answer: the handler raises it, the dispatcher turns it into ``{"message": ...}``."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}

    def to_response(self) -> HttpResponse:
        return HttpResponse(self.status, {"message": self.message}, dict(self.headers))


__all__ = ["ApiError", "HttpRequest", "HttpResponse"]
