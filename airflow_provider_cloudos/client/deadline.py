"""The time a task has left, as a context-scoped budget both transports read.

A sensor with ``timeout=20`` or a trigger with an ``end_time`` must not be held past that moment
by a server that stalls, nor by the client's own retries. Passing a deadline argument through
every hook and client method would touch each signature and still miss calls made deep inside
(the resolver, a paginated listing); instead the task opens a scope once::

    with call_deadline(started + timeout, "the sensor's timeout (20s)"):
        hook.get_session(session_id)

and every request sent inside it, by either client, neither starts an attempt nor sleeps for a
retry beyond it. Scopes nest, and the earliest deadline wins, so an ``execution_timeout`` and
an operator's own ``timeout`` can both be opened. Calls that must still run after a deadline
passed (pausing the session a timed-out task started) open a :func:`cleanup_budget`, which
replaces the deadline with a short, fresh one.

The deadline is wall-clock epoch seconds, like a trigger's ``end_time``: it must mean the same
moment in another process. A :mod:`contextvars` variable carries it, so asyncio tasks see the
scope of the code that started them and threads do not leak it to each other.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from airflow_provider_cloudos.core.errors import CloudOSValidationError


@dataclass(frozen=True)
class Deadline:
    """A wall-clock moment (epoch seconds) and what set it, for the message when it is reached."""

    at: float
    source: str

    def remaining(self, now: float) -> float:
        return self.at - now


_CURRENT: ContextVar[Deadline | None] = ContextVar("cloudos_call_deadline", default=None)


def current_deadline() -> Deadline | None:
    """The deadline of the calls made here, or None when no task set one."""
    return _CURRENT.get()


def _checked_time(value: float, parameter: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        raise CloudOSValidationError(parameter, value, "expected a number of seconds")
    return float(value)


@contextmanager
def call_deadline(at: float | None, source: str) -> Iterator[Deadline | None]:
    """Calls in this block end by ``at`` (epoch seconds); None leaves the current deadline.

    Inside an earlier deadline, the earlier one stays: a scope can only shorten the time left.
    """
    outer = _CURRENT.get()
    if at is None:
        yield outer
        return
    wanted = Deadline(_checked_time(at, "deadline"), source)
    chosen = outer if outer is not None and outer.at <= wanted.at else wanted
    token = _CURRENT.set(chosen)
    try:
        yield chosen
    finally:
        _CURRENT.reset(token)


@contextmanager
def cleanup_budget(
    seconds: float, source: str, *, clock: Callable[[], float] = time.time
) -> Iterator[Deadline]:
    """A fresh deadline ``seconds`` from now that replaces any current one.

    For the calls a task makes because its deadline passed (pausing the session it started): they
    would otherwise be refused before they are sent.
    """
    fresh = Deadline(clock() + _checked_time(seconds, "seconds"), source)
    token = _CURRENT.set(fresh)
    try:
        yield fresh
    finally:
        _CURRENT.reset(token)


def attempt_budget(per_attempt: float, deadline: Deadline | None, now: float) -> float | None:
    """Seconds the next attempt may take: the client's own limit, cut to what the deadline leaves;
    None when the deadline leaves nothing."""
    if deadline is None:
        return per_attempt
    left = deadline.remaining(now)
    if left <= 0:
        return None
    return min(per_attempt, left)


#: A timeout that fires this close to the deadline is the deadline's (timers are not exact).
_DEADLINE_SLACK_SECONDS = 0.05


def deadline_passed(deadline: Deadline | None, now: float) -> bool:
    """Whether a timeout that just fired was the deadline's, rather than a shorter one of the
    client's own (a connect timeout, say): only then does the error say the deadline was reached."""
    return deadline is not None and deadline.remaining(now) <= _DEADLINE_SLACK_SECONDS


def sleep_fits(delay: float, deadline: Deadline | None, now: float) -> bool:
    """Whether sleeping ``delay`` seconds still leaves time for another attempt."""
    return deadline is None or now + delay < deadline.at


__all__ = [
    "Deadline",
    "attempt_budget",
    "call_deadline",
    "cleanup_budget",
    "current_deadline",
    "deadline_passed",
    "sleep_fits",
]
