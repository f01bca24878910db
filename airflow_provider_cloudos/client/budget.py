"""One request budget per connection in an event loop: every wait and pause draws from it.

CloudOS does not publish its rate limits. A triggerer carrying thousands of waits on one workspace
must not hammer it, so every request the async client sends on a connection (the same URL, key and
workspace) first takes its turn from that connection's budget: ``max_requests_per_second``, a
connection extra (default :data:`DEFAULT_REQUESTS_PER_SECOND`), with a burst of one second's worth.
A 429 holds the whole budget for its ``Retry-After`` (a second when it gives none), not only the
request that got it: a herd of waits stops together and comes back at the budget's pace,
not all at once.

It is a generic cell rate algorithm (a token bucket kept as one number): each request is given
the moment it may be sent, so requests keep their order and a waiting one holds nothing.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import Callable, Hashable

from airflow_provider_cloudos.core.errors import CloudOSValidationError

#: Requests a second one connection may send from one event loop, unless its extra says otherwise.
DEFAULT_REQUESTS_PER_SECOND = 20.0
#: How long a 429 without a usable ``Retry-After`` holds the connection's requests.
TOO_MANY_REQUESTS_HOLD_SECONDS = 1.0


def check_rate(value: object, parameter: str = "max_requests_per_second") -> float:
    """A number of requests a second greater than 0, refused by name otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < float("inf"):
        raise CloudOSValidationError(parameter, value, "expected a number of requests a second above 0")
    return float(value)


class RequestBudget:
    """The turns of one connection's requests; see the module's docstring."""

    def __init__(self, per_second: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_second = float(per_second)
        self._interval = 1.0 / self.per_second
        #: How far ahead of its pace the budget lets a burst run: one second's worth of requests.
        self._burst = max(0.0, (max(1.0, self.per_second) - 1.0) * self._interval)
        self._clock = clock
        #: When the next request would be sent if the budget were spent evenly.
        self._paced_until = clock()
        #: Requests sent, and how long they were held back in all, for tests and benchmarks.
        self.granted = 0
        self.held_seconds = 0.0

    def turn(self) -> float:
        """Take the next turn: how many seconds from now the request may be sent (0: now)."""
        now = self._clock()
        paced = max(self._paced_until, now)
        send_at = max(now, paced - self._burst)
        self._paced_until = paced + self._interval
        delay = round(send_at - now, 6)  # to the microsecond: a float sum's dust is not a wait
        self.granted += 1
        self.held_seconds += delay
        return delay

    def hold(self, seconds: float) -> None:
        """CloudOS said "too many requests": no request on this connection for ``seconds``, and
        none in a burst after it."""
        resume_at = self._clock() + max(0.0, seconds)
        self._paced_until = max(self._paced_until, resume_at + self._burst)

    async def wait_turn(self) -> None:
        delay = self.turn()
        if delay > 0:
            await asyncio.sleep(delay)


_BUDGETS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[Hashable, RequestBudget]] = (
    weakref.WeakKeyDictionary()
)


def budget_for(key: Hashable, per_second: float) -> RequestBudget:
    """The running loop's budget of connection ``key``; a changed rate starts a new one."""
    budgets = _BUDGETS.setdefault(asyncio.get_running_loop(), {})
    budget = budgets.get(key)
    if budget is None or budget.per_second != per_second:
        budget = budgets[key] = RequestBudget(per_second)
    return budget


__all__ = [
    "DEFAULT_REQUESTS_PER_SECOND",
    "TOO_MANY_REQUESTS_HOLD_SECONDS",
    "RequestBudget",
    "budget_for",
    "check_rate",
]
