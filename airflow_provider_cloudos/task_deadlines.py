"""The deadlines a task's API calls must keep, opened as client call scopes.

A task knows when it has to be done: a sensor's ``timeout``, an operator's ``timeout``, a
trigger's ``end_time`` and, everywhere, the try's ``execution_timeout``. The client knows none
of that; it reads the scope opened here (:func:`~airflow_provider_cloudos.client.transport.call_deadline`)
and neither starts an attempt nor sleeps for a retry beyond it. Each deadline is named after
what set it, so the error a stalled server ends in says whose time ran out.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from typing import Any

from airflow_provider_cloudos.client.transport import Deadline, call_deadline, cleanup_budget
from airflow_provider_cloudos.compat import current_try_started_at
from airflow_provider_cloudos.core.formatters import format_duration

#: The time given to the calls a task makes because its deadline passed (pausing the session it
#: started): short, as a kill allows about 5 s before SIGKILL, yet enough for one slow answer.
CLEANUP_SECONDS = 30.0
#: How long past its ``end_time`` the look a trigger takes at the deadline may take to be answered.
LAST_LOOK_SECONDS = 5.0


def _execution_timeout_seconds(task: Any) -> float | None:
    timeout = getattr(task, "execution_timeout", None)
    seconds = timeout.total_seconds() if timeout is not None else None
    return seconds if seconds is not None and seconds > 0 else None


@contextmanager
def task_call_deadline(
    task: Any, seconds: float | None, what: str, *, started_at: float | None = None
) -> Iterator[Deadline | None]:
    """Calls in this block end by ``started_at + seconds`` (``what``'s deadline) and by the try's
    ``execution_timeout``, whichever comes first.

    ``started_at`` defaults to the start of the running try (now, outside Airflow).
    """
    start = current_try_started_at() if started_at is None else started_at
    own = None if seconds is None else start + float(seconds)
    limit = _execution_timeout_seconds(task)
    execution = None if limit is None else current_try_started_at() + limit
    with call_deadline(execution, f"execution_timeout ({format_duration(limit)})"):
        label = f"{what} ({format_duration(seconds)})" if seconds is not None else what
        with call_deadline(own, label) as chosen:
            yield chosen


def trigger_call_deadline(
    end_time: float, *, clock: Callable[[], float] = time.time
) -> AbstractContextManager[Deadline | None]:
    """The scope of one poll of a trigger: its ``end_time``, stretched to give a look taken near
    it :data:`LAST_LOOK_SECONDS`.

    A trigger takes a last look at the session when ``end_time`` arrives, or at once when it is
    created after it (on another triggerer): a session that became ready meanwhile is a success,
    not a timeout. That look gets a few seconds, no more, to be answered; looks taken earlier end
    by ``end_time`` itself.
    """
    moment = datetime.fromtimestamp(end_time, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    label = f"the trigger's end_time ({moment}; a look taken at it may take {LAST_LOOK_SECONDS:g}s)"
    return call_deadline(max(end_time, clock() + LAST_LOOK_SECONDS), label)


@contextmanager
def cleanup_calls(reason: str) -> Iterator[Deadline]:
    """A short fresh budget for calls made because a deadline passed or the task is going away."""
    with cleanup_budget(CLEANUP_SECONDS, f"the cleanup after {reason}") as budget:
        yield budget


__all__ = [
    "CLEANUP_SECONDS",
    "LAST_LOOK_SECONDS",
    "cleanup_calls",
    "task_call_deadline",
    "trigger_call_deadline",
]
