"""What a wait means, in one place: for one session and for a batch, blocking or in a trigger.

A :class:`StatusWatch` is fed each observed session object and answers whether the wait is
over, and whether the status changed since the last observation. Waiters log only changes, so a
task log tells the story (``setup`` after 0s, ``initialising`` after 42s, ``running`` after
3m 10s) instead of one line per poll. It also words every way the wait can end (reached,
failed, guard, timeout...), so the hook, the trigger, the sensor and the operators say the same
thing the same way.

:func:`session_wait` is the one loop every single-session wait runs (the hook's blocking wait,
the session trigger, the sensor's poke): fed one look at the session at a time (its object, or
the error the read met), it decides what the look means, what to log, when to look again and how
the wait ended. :class:`BatchWatch` and :func:`batch_wait` do the same for many sessions (the fleet
operator's blocking wait and the batch trigger). The loops do no I/O: they yield what to do, and
each caller only performs the reads and the sleeps (:func:`run_blocking`, :func:`run_async`), so
a reader shared by many waits can feed them as well.

"Stop my session once it has spent $50": every waiter asks the same :class:`SessionGuard`, so they
fire at the same observation and say why in the same words.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Awaitable, Callable, Generator, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, NamedTuple, Protocol, TypeVar

from airflow_provider_cloudos.core.errors import CloudOSError, CloudOSTransientError
from airflow_provider_cloudos.core.formatters import (
    finite_float,
    format_cost,
    format_duration,
    session_summary,
)
from airflow_provider_cloudos.core.spec import parse_runtime, parse_usd, parse_watch_timeout_duration
from airflow_provider_cloudos.core.status import (
    FAILURE_STATUSES,
    WaitOutcome,
    map_status,
    normalize_statuses,
)

#: Added to a failure's message when the waiter paused the session it started (cost, timeout).
PAUSED_TO_STOP_COSTS = "; the session was paused to stop its costs"


def _format_elapsed(seconds: float) -> str:
    """Like :func:`format_duration`, but a wait that just began reads "0s", not "Not started"."""
    return format_duration(seconds) if seconds >= 1 else "0s"


def _where(url: str | None) -> str:
    return f" ({url})" if url else ""


@dataclass(frozen=True, slots=True)
class SessionGuard:
    """Limits on a watched session's cost and runtime; :meth:`check` says when one is reached.

    The runtime is the session's own ``totalRunningTimeInSeconds`` (what it has billed for), not
    the time the wait has lasted: that is what a timeout is for. A limit is reached at equality.
    An inactive guard (no limit) never fires. Immutable; equal to (and hashed like) another guard
    with the same limits.
    """

    max_cost_usd: float | None = None
    max_runtime_seconds: float | None = None

    def __post_init__(self) -> None:
        """Check the limits and store them as floats, so equal guards compare and hash alike."""
        object.__setattr__(self, "max_cost_usd", parse_usd(self.max_cost_usd, "max_cost_usd"))
        if self.max_runtime_seconds is not None:
            seconds = parse_watch_timeout_duration(self.max_runtime_seconds, parameter="max_runtime_seconds")
            object.__setattr__(self, "max_runtime_seconds", float(seconds))

    @classmethod
    def from_params(cls, *, max_cost_usd: Any = None, max_runtime: Any = None) -> SessionGuard:
        """The guard from rendered operator parameters; errors name ``max_cost_usd``/``max_runtime``."""
        return cls(parse_usd(max_cost_usd, "max_cost_usd"), parse_runtime(max_runtime, "max_runtime"))

    @property
    def active(self) -> bool:
        return self.max_cost_usd is not None or self.max_runtime_seconds is not None

    def _limits(self) -> list[tuple[str, float, Callable[[Any], str], str]]:
        """The limits that are set: (what, limit, how it is shown, the session field it watches)."""
        limits = (
            ("cost", self.max_cost_usd, format_cost, "totalCostInUsd"),
            ("runtime", self.max_runtime_seconds, format_duration, "totalRunningTimeInSeconds"),
        )
        return [(what, limit, shown, key) for what, limit, shown, key in limits if limit is not None]

    def check(self, session: Mapping[str, Any]) -> str | None:
        """The reason the guard fires for this session object, or None."""
        reasons = []
        for what, limit, shown, key in self._limits():
            used = finite_float(session.get(key)) or 0.0
            if used >= limit:
                reasons.append(f"{what} {shown(used)} reached the limit of {shown(limit)}")
        return " and ".join(reasons) or None

    def describe(self) -> str:
        limits = [f"{what} reaches {shown(limit)}" for what, limit, shown, _ in self._limits()]
        return " or ".join(limits) or "no guard"

    def trigger_kwargs(self) -> dict[str, float]:
        """The limits that are set, as a trigger's serialized keyword arguments (primitives)."""
        return {name: limit for name, limit in asdict(self).items() if limit is not None}


@dataclass(slots=True)
class StatusWatch:
    """Tracks one wait for a session to reach ``targets``.

    ``targets`` and ``failures`` are display statuses (API names are accepted and mapped);
    ``started_at`` is a wall-clock epoch so a watch re-created on another machine (a trigger
    moved to another triggerer) reports the elapsed time of the whole wait. ``guard`` (cost,
    runtime) ends the wait while the session is still on its way. ``last_status`` and
    ``last_api_status`` start as None and follow the observations. Mutable, so unhashable.
    """

    session_id: str
    targets: frozenset[str]
    failures: frozenset[str] = FAILURE_STATUSES
    started_at: float = 0.0
    url: str | None = None
    guard: SessionGuard | None = None
    last_status: str | None = field(default=None, init=False)
    last_api_status: str | None = field(default=None, init=False)

    @classmethod
    def create(
        cls,
        session_id: str,
        targets: str | Iterable[str],
        failures: str | Iterable[str] | None = None,
        *,
        started_at: float = 0.0,
        url: str | None = None,
        guard: SessionGuard | None = None,
        parameters: tuple[str, str] = ("target_status", "failure_status"),
    ) -> StatusWatch:
        """Validate the wanted and failure statuses; errors name ``parameters`` (the caller's names)."""
        target_set = normalize_statuses(targets, parameter=parameters[0])
        if failures is None:
            failures = FAILURE_STATUSES - target_set
        failure_set = normalize_statuses(failures, parameter=parameters[1]) if failures else frozenset()
        return cls(session_id, target_set, failure_set, started_at, url, guard)

    def observe(self, session: Mapping[str, Any] | None) -> tuple[WaitOutcome, bool]:
        """Record one observation; return the outcome and whether the status changed.

        Targets and failures are mapped too (raw API names are accepted). A status that is both a
        target and a failure counts as reached: asking to wait for ``terminated`` means terminated
        is success.
        """
        api_status = None if session is None else session.get("status")
        self.last_api_status = api_status if isinstance(api_status, str) else None
        display = map_status(self.last_api_status)
        changed, self.last_status = display != self.last_status, display
        if display in {map_status(status) for status in self.targets}:
            return WaitOutcome.REACHED, changed
        if display in {map_status(status) for status in self.failures}:
            return WaitOutcome.FAILED, changed
        return WaitOutcome.WAITING, changed

    def change_message(self, now: float) -> str:
        """The log line for a status change: what, after how long, and where to look."""
        elapsed = _format_elapsed(now - self.started_at)
        return f"Session {self.session_id} is {self.last_status} after {elapsed}{_where(self.url)}"

    def elapsed(self, now: float) -> float:
        return max(0.0, now - self.started_at)

    def describe_targets(self) -> str:
        return " or ".join(sorted(self.targets))

    # -- how the wait ended, in words: the same from every waiter ---------------------------

    def reached_message(self) -> str:
        return f"Session {self.session_id} is {self.last_status}{_where(self.url)}"

    def already_there_message(self) -> str:
        """Seen in a target status before waiting at all."""
        return (
            f"Session {self.session_id} is already {self.last_status}; nothing to wait for{_where(self.url)}"
        )

    def failed_message(self) -> str:
        return (
            f"Session {self.session_id} is {self.last_status} while waiting for "
            f"{self.describe_targets()}{_where(self.url)}"
        )

    def guard_message(self, reason: str) -> str:
        """``reason`` is what the guard said, e.g. "cost $50.20 reached the limit of $50.00"."""
        where = _where(self.url)
        return f"Session {self.session_id} {reason} while waiting for {self.describe_targets()}{where}"

    def timeout_message(self, waited_seconds: float) -> str:
        """A timed-out wait reads at least "1s": a deadline shorter than that still waited."""
        return (
            f"Session {self.session_id} did not become {self.describe_targets()} within "
            f"{format_duration(max(waited_seconds, 1))}; last status: {self.last_status or 'unknown'}"
            f"{_where(self.url)}"
        )

    def unanswered_message(self, waited_seconds: float, last_error: str) -> str:
        """The deadline passed while CloudOS kept failing to answer (not a slow session)."""
        return (
            f"CloudOS kept failing until the deadline while waiting for session {self.session_id} "
            f"({_format_elapsed(waited_seconds)}): {last_error}"
        )

    def refused_message(self, error: CloudOSError) -> str:
        return f"CloudOS refused to report session {self.session_id}: {error}"


class BatchWatch:
    """Tracks one wait for many sessions to reach ``targets``; fed one session object at a time.

    The batch trigger and the fleet operator's blocking wait both use it (through
    :func:`batch_wait`), so they settle sessions, word their messages and log progress the same
    way: one line when the counts change, never one per poll. ``started_at`` is a wall-clock epoch
    (valid on any machine).
    """

    def __init__(
        self,
        session_ids: Iterable[str],
        targets: Iterable[str],
        failures: Iterable[str] = (),
        *,
        started_at: float = 0.0,
    ) -> None:
        self.targets = frozenset(targets)
        self.failures = frozenset(failures) - self.targets
        self.started_at = started_at
        #: Still waiting: id → last display status seen (None before the first answer).
        self.pending: dict[str, str | None] = dict.fromkeys(session_ids)
        #: Settled in a target status: id → display status.
        self.reached: dict[str, str] = {}
        #: Settled otherwise: id → why, in words.
        self.failed: dict[str, str] = {}
        #: The last transient error of the current round, if any.
        self.last_error: str | None = None

    @property
    def total(self) -> int:
        return len(self.pending) + len(self.reached) + len(self.failed)

    def progress(self) -> tuple[int, int, int]:
        """(reached, failed, pending) counts; a change is worth a log line."""
        return len(self.reached), len(self.failed), len(self.pending)

    def observe(self, session_id: str, session: Mapping[str, Any]) -> None:
        status = session_summary(session)["status"]
        if status in self.targets:
            self.pending.pop(session_id, None)
            self.reached[session_id] = status
        elif status in self.failures:
            self.refuse(session_id, f"it is {status}")
        else:
            self.pending[session_id] = status

    def refuse(self, session_id: str, why: str) -> None:
        """CloudOS refused to report the session (404, 403...): asking again will not help."""
        self.pending.pop(session_id, None)
        self.failed[session_id] = why

    def unread(self, session_id: str, error: CloudOSError) -> bool:
        """A poll of ``session_id`` failed: True when it is worth asking again next round.

        A transient error (no answer, 5xx, 429, a call deadline) keeps the session pending and is
        remembered for the timeout message; any other refusal settles it as failed.
        """
        if isinstance(error, CloudOSTransientError):
            self.last_error = str(error)
            return True
        self.refuse(session_id, f"CloudOS refused to report it: {error}")
        return False

    def describe_targets(self) -> str:
        return " or ".join(sorted(self.targets))

    def _elapsed(self, now: float) -> str:
        return _format_elapsed(max(0.0, now - self.started_at))

    def progress_message(self, now: float) -> str:
        reached, failed, pending = self.progress()
        return (
            f"{reached} of {self.total} sessions {self.describe_targets()} after {self._elapsed(now)}"
            + (f", {failed} failed" if failed else "")
            + f"; waiting for {pending}"
        )

    def outcome_message(self) -> str:
        """Once nothing is pending: all reached, or which ones failed and why."""
        if not self.failed:
            return f"All {self.total} sessions are {self.describe_targets()}"
        reasons = "; ".join(f"{session_id}: {why}" for session_id, why in sorted(self.failed.items()))
        return (
            f"{len(self.failed)} of {self.total} sessions did not become {self.describe_targets()}: {reasons}"
        )

    def timeout_message(self, now: float) -> str:
        waiting = ", ".join(
            f"{session_id} ({status or 'unknown'})" for session_id, status in sorted(self.pending.items())
        )
        cause = f"; last error: {self.last_error}" if self.last_error else ""
        return (
            f"{len(self.pending)} of {self.total} sessions did not become {self.describe_targets()} "
            f"within {self._elapsed(now)}: {waiting}{cause}"
        )


class WaitEnd(enum.StrEnum):
    """How a wait ended; the values are the statuses of the trigger event that reports it."""

    REACHED = "success"
    FAILED = "failure"
    TIMED_OUT = "timeout"
    #: The session's cost or runtime reached its guard while it was still on its way.
    GUARD = "guard"
    #: The deadline passed while CloudOS kept failing to answer (not a slow session).
    UNANSWERED = "error"


class WaitResult(NamedTuple):
    end: WaitEnd
    message: str
    #: The session object of the look that ended the wait (None: a deadline or a refusal ended it).
    session: Mapping[str, Any] | None = None
    #: What the guard said, when it ended the wait.
    reason: str | None = None


class WaitLog(Protocol):
    """The caller's logger, where a wait writes its progress."""

    def info(self, msg: str, /) -> object: ...

    def warning(self, msg: str, /) -> object: ...


def _pause(seconds: float) -> float:
    """A pause the runners recognise as one (a float, never negative)."""
    return max(0.0, float(seconds))


def session_wait(
    watch: StatusWatch,
    poll_interval: float,
    end_time: float,
    *,
    clock: Callable[[], float],
    log: WaitLog,
    wait_first: bool = False,
    in_step: bool = False,
) -> Generator[str | float, Mapping[str, Any] | CloudOSError, WaitResult]:
    """The single-session wait's one loop, free of I/O: it yields what to do, the runner does it.

    A yielded id asks for a look at that session: the runner sends back its object, or the error
    the read met. A transient error (no answer, 5xx, a call deadline) is logged and the wait goes
    on; any other error is a refusal that ends it. Each look at the session is judged by ``watch``
    (a target, a failure status, its guard); a status change is logged once. After each look
    the loop sleeps ``poll_interval``, cut at ``end_time``, where it ends: timed out, or
    unanswered when the last look met an error. ``wait_first`` sleeps before the first look (a
    trigger starts right after its task looked). An ``end_time`` already passed takes one look.
    Progress goes to ``log``, the caller's logger.

    ``in_step``: each look falls on a multiple of ``poll_interval`` on the clock (the first at least
    one interval away), so waits with the same interval look in the same moment, however far apart
    they started: a triggerer's waits then meet in one round of the shared reader.
    """

    def pause_from(now: float, first: bool = False) -> float:
        if in_step:  # the next multiple of the interval after now; the first time, one interval on
            steps = math.ceil(now / poll_interval) if first else math.floor(now / poll_interval)
            wake = (steps + 1) * poll_interval
        else:
            wake = now + poll_interval
        return _pause(min(wake, end_time) - now)

    if wait_first:
        yield pause_from(clock(), first=True)
    last_error: str | None = None
    while True:
        seen = yield watch.session_id
        if isinstance(seen, CloudOSTransientError):
            last_error = str(seen)
            log.warning(f"CloudOS did not answer; the wait goes on: {seen}")
        elif isinstance(seen, CloudOSError):
            return WaitResult(WaitEnd.FAILED, watch.refused_message(seen))
        else:
            last_error = None
            outcome, changed = watch.observe(seen)
            if changed:
                log.info(watch.change_message(clock()))
            if outcome is WaitOutcome.REACHED:
                return WaitResult(WaitEnd.REACHED, watch.reached_message(), seen)
            if outcome is WaitOutcome.FAILED:
                return WaitResult(WaitEnd.FAILED, watch.failed_message(), seen)
            reason = watch.guard.check(seen) if watch.guard is not None else None
            if reason is not None:
                return WaitResult(WaitEnd.GUARD, watch.guard_message(reason), seen, reason)
        now = clock()
        if now >= end_time:
            waited = watch.elapsed(now)
            if last_error is None:
                return WaitResult(WaitEnd.TIMED_OUT, watch.timeout_message(waited))
            return WaitResult(WaitEnd.UNANSWERED, watch.unanswered_message(waited, last_error))
        yield pause_from(now)


def batch_wait(
    watch: BatchWatch,
    *,
    poll_interval: float,
    end_time: float,
    clock: Callable[[], float],
    log: Callable[[str], None],
    wait_first: bool,
) -> Generator[list[str] | float, None, WaitResult]:
    """The batch wait's one loop, free of I/O: it yields what to do, the runner does it.

    A yielded list is a round: the runner reads each session and feeds the answer to
    ``watch.observe`` (or the error to ``watch.unread``). A yielded number is a pause in seconds.
    Rounds start every ``poll_interval`` (a long round eats into the pause); the wait ends when
    every session settled or at ``end_time``. ``wait_first`` skips the first round's look: a
    trigger starts right after the pauses were asked for.
    """
    if wait_first:
        yield _pause(min(poll_interval, end_time - clock()))
    while True:
        round_started = clock()
        before = watch.progress()
        watch.last_error = None
        yield list(watch.pending)
        now = clock()
        if watch.progress() != before:
            log(watch.progress_message(now))
        if not watch.pending:
            return WaitResult(WaitEnd.FAILED if watch.failed else WaitEnd.REACHED, watch.outcome_message())
        if now >= end_time:
            return WaitResult(WaitEnd.TIMED_OUT, watch.timeout_message(now))
        yield _pause(min(round_started + poll_interval, end_time) - now)


_Ask = TypeVar("_Ask")
_Seen = TypeVar("_Seen")
_Result = TypeVar("_Result")


def run_blocking(
    loop: Generator[_Ask | float, _Seen, _Result],
    look: Callable[[_Ask], _Seen],
    sleep: Callable[[float], object],
) -> _Result:
    """Run a wait's loop in this thread: ``look`` performs what it asks for, ``sleep`` its pauses.

    What a step found is sent back to the loop (the first send is None, which starts it); the loops
    read only what a look found, never what a pause returned.
    """
    seen: Any = None
    try:
        while True:
            step = loop.send(seen)
            seen = sleep(step) if isinstance(step, float) else look(step)
    except StopIteration as finished:
        return finished.value


async def run_async(
    loop: Generator[_Ask | float, _Seen, _Result],
    look: Callable[[_Ask], Awaitable[_Seen]],
    sleep: Callable[[float], Awaitable[object]],
) -> _Result:
    """:func:`run_blocking` in an event loop (the triggers; the batch one polls a round concurrently)."""
    seen: Any = None
    try:
        while True:
            step = loop.send(seen)
            seen = await (sleep(step) if isinstance(step, float) else look(step))
    except StopIteration as finished:
        return finished.value
