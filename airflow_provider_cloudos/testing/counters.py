"""Request, response and connection counters, so tests can assert what the provider sent.

"Exactly one session was created" is ``counters.requests("create") == 1``; "the client
reused its connection" is ``counters.connections_accepted == 1`` after many requests; "a settled
session is not polled again" is ``counters.requests("get", session_id)`` staying put.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from typing import Any

from airflow_provider_cloudos.testing.faults import ENDPOINTS, UNKNOWN_ENDPOINT

#: How many request times are kept per endpoint and subject: the latest ones, enough to see when
#: a session was last polled or paused without growing with a long benchmark's millions of polls.
REQUEST_TIMES_KEPT = 512


class Counters:
    """Thread-safe counters; :meth:`reset` zeroes all but the gauge of open connections."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: Counter[str] = Counter()
        self._by_subject: Counter[tuple[str, str]] = Counter()
        self._times: dict[tuple[str, str], deque[float]] = {}
        self._responses: Counter[int] = Counter()
        self._accepted = 0
        self._open = 0
        self._dropped = 0

    def reset(self) -> None:
        with self._lock:
            self._requests.clear()
            self._by_subject.clear()
            self._times.clear()
            self._responses.clear()
            self._accepted = 0
            self._dropped = 0

    # ---- recording (called by the server) ------------------------------------------------

    def record_request(self, endpoint: str, subject: str | None = None) -> None:
        """Count one request; ``subject`` is the id in its path (the session polled, paused...)."""
        with self._lock:
            self._requests[endpoint] += 1
            if subject is not None:
                self._by_subject[endpoint, subject] += 1
                kept = self._times.setdefault((endpoint, subject), deque(maxlen=REQUEST_TIMES_KEPT))
                kept.append(time.time())

    def record_response(self, status: int) -> None:
        with self._lock:
            self._responses[status] += 1

    def record_drop(self) -> None:
        with self._lock:
            self._dropped += 1

    def connection_opened(self) -> None:
        with self._lock:
            self._accepted += 1
            self._open += 1

    def connection_closed(self) -> None:
        with self._lock:
            self._open -= 1

    # ---- reading --------------------------------------------------------------------------

    def requests(self, endpoint: str | None = None, subject: str | None = None) -> int:
        """Requests received for one endpoint name (all of them with None), or about one ``subject``.

        ``requests("get", session_id)`` counts the polls of one session.
        """
        with self._lock:
            if subject is not None:
                if endpoint is None:
                    return sum(n for (_, about), n in self._by_subject.items() if about == subject)
                return self._by_subject[endpoint, subject]
            return sum(self._requests.values()) if endpoint is None else self._requests[endpoint]

    def request_times(self, endpoint: str, subject: str) -> list[float]:
        """Wall-clock times (``time.time()``) of the latest requests for one endpoint about one subject.

        Real time, not the simulator's clock, so a test can tell which requests came after a
        process it killed was gone: ``request_times("get", session_id)`` are the polls of one
        session, oldest first (the latest :data:`REQUEST_TIMES_KEPT`).
        """
        with self._lock:
            return list(self._times.get((endpoint, subject), ()))

    def responses(self, status: int) -> int:
        with self._lock:
            return self._responses[status]

    @property
    def total_requests(self) -> int:
        return self.requests()

    @property
    def connections_accepted(self) -> int:
        with self._lock:
            return self._accepted

    @property
    def connections_open(self) -> int:
        with self._lock:
            return self._open

    @property
    def dropped(self) -> int:
        """Requests whose connection was closed unanswered by fault injection."""
        with self._lock:
            return self._dropped

    def snapshot(self) -> dict[str, Any]:
        """A consistent copy: every endpoint name is present (zero when unused)."""
        with self._lock:
            requests = {name: self._requests[name] for name in (*ENDPOINTS, UNKNOWN_ENDPOINT)}
            return {
                "total_requests": sum(self._requests.values()),
                "requests": requests,
                "responses": dict(sorted(self._responses.items())),
                "connections_accepted": self._accepted,
                "connections_open": self._open,
                "dropped": self._dropped,
            }


__all__ = ["REQUEST_TIMES_KEPT", "Counters"]
