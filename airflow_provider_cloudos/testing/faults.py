"""Fault injection: the misbehaviour of a real network and API, on demand.

Two kinds of knobs, both changeable from any thread while the server runs:

* rates (``error_rate`` → 503, ``rate_limit_rate``/``rate_limit_every`` → 429 with
  ``Retry-After``, ``drop_rate`` → connection closed without an answer, ``latency``), drawn
  from a seeded random generator so a single-threaded test sees the same sequence every run;
  ``only_endpoints`` narrows them to some endpoint names;
* a one-shot queue (:meth:`Faults.fail_next`) for tests that need exactly N failures;
* answers held in flight (:meth:`Faults.hold_answers`): the API acts (a session is created),
  but its answer waits until :meth:`Faults.release_held`, so a test can kill a worker at the
  one moment a client cannot know what it has done.

Faults are decided before authentication, as a gateway in front of the API would fail.
"""

from __future__ import annotations

import math
import random
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast, overload

#: Endpoint names, as used by counters, ``only_endpoints`` and ``fail_next``.
ENDPOINTS: tuple[str, ...] = (
    "create",
    "get",
    "list",
    "abort",
    "resume",
    "projects",
    "datasets",
    "dataset_items",
    "folder_items",
)
#: Requests that match no endpoint are counted (and can be faulted) under this name.
UNKNOWN_ENDPOINT = "unknown"
ANY_ENDPOINT = "*"
_Stored = TypeVar("_Stored")


def _check_endpoint(name: str, parameter: str) -> str:
    if name not in (*ENDPOINTS, UNKNOWN_ENDPOINT):
        known = ", ".join(ENDPOINTS)
        raise ValueError(f"{parameter}={name!r}: unknown endpoint name; expected one of {known}")
    return name


def _check_rate(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise ValueError(f"Faults.{name}={value!r}: expected a fraction between 0 and 1")
    return float(value)


def _check_seconds(name: str, value: float) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value < 0
    ):
        raise ValueError(f"Faults.{name}={value!r}: expected a non-negative number of seconds")
    return float(value)


def _check_server_error(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 500 <= value <= 599:
        raise ValueError(f"Faults.{name}={value!r}: expected a 5xx status code")
    return value


def _check_endpoints(name: str, names: Iterable[str] | str | None) -> frozenset[str] | None:
    if isinstance(names, str):
        names = [names]
    return None if names is None else frozenset(_check_endpoint(n, name) for n in names)


class _Knob(Generic[_Stored]):
    """A :class:`Faults` setting: checked when set, read and written under the faults' lock.

    Kept in the attribute of the same name with a leading underscore.
    """

    def __init__(self, check: Callable[[str, Any], _Stored]) -> None:
        self._check = check

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    @overload
    def __get__(self, faults: None, owner: type) -> _Knob[_Stored]: ...
    @overload
    def __get__(self, faults: Faults, owner: type) -> _Stored: ...
    def __get__(self, faults: Faults | None, owner: type) -> _Knob[_Stored] | _Stored:
        if faults is None:
            return self
        with faults._lock:
            return cast("_Stored", getattr(faults, f"_{self._name}"))

    def __set__(self, faults: Faults, value: Any) -> None:
        checked = self._check(self._name, value)
        with faults._lock:
            setattr(faults, f"_{self._name}", checked)


@dataclass(frozen=True)
class FaultDecision:
    """What to do to one request: wait ``latency``, then drop it, answer ``status``, or serve it."""

    latency: float = 0.0
    drop: bool = False
    status: int | None = None
    retry_after: float | None = None

    @property
    def serve(self) -> bool:
        return not self.drop and self.status is None


@dataclass
class _OneShot:
    endpoint: str
    status: int
    remaining: int
    retry_after: float | None
    drop: bool


class Faults:
    """Thread-safe fault settings; all off after construction and after :meth:`clear`."""

    def __init__(self, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._seed = seed
        self._set_defaults()

    def _set_defaults(self) -> None:
        self._random = random.Random(f"faults:{self._seed}")
        self._latency = 0.0
        self._error_rate = 0.0
        self._error_status = 503
        self._drop_rate = 0.0
        self._rate_limit_rate = 0.0
        self._rate_limit_every = 0
        self._retry_after = 1.0
        self._only_endpoints: frozenset[str] | None = None
        self._eligible_seen = 0
        self._queue: list[_OneShot] = []
        self._holds: dict[str, int] = {}
        self._holding = 0
        self._release_round = 0

    def clear(self) -> None:
        """Turn every fault off, empty the one-shot queue and restart the random sequence.

        Answers held in flight are released (a cleared simulator keeps nothing waiting).
        """
        with self._lock:
            release_round = self._release_round + 1
            self._set_defaults()
            self._release_round = release_round  # _set_defaults zeroed the held count

    def reseed(self, seed: int) -> None:
        with self._lock:
            self._seed = seed
            self._random = random.Random(f"faults:{seed}")

    # ---- knobs --------------------------------------------------------------------------

    #: Seconds added before every (eligible) request is answered.
    latency = _Knob(_check_seconds)
    #: Fraction of eligible requests answered with ``error_status`` (503 by default).
    error_rate = _Knob(_check_rate)
    error_status = _Knob(_check_server_error)
    #: Fraction of eligible requests whose connection is closed without any answer.
    drop_rate = _Knob(_check_rate)
    #: Fraction of eligible requests answered 429.
    rate_limit_rate = _Knob(_check_rate)
    #: Seconds sent in ``Retry-After`` with 429s (a whole number is sent without decimals).
    retry_after = _Knob(_check_seconds)
    #: Endpoint names the rate-based faults and latency apply to; None means all.
    only_endpoints = _Knob(_check_endpoints)

    @property
    def rate_limit_every(self) -> int:
        """Answer every Nth eligible request 429 (0 = off); deterministic even under concurrency."""
        with self._lock:
            return self._rate_limit_every

    @rate_limit_every.setter
    def rate_limit_every(self, value: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"Faults.rate_limit_every={value!r}: expected a whole number >= 0")
        with self._lock:
            self._rate_limit_every = value
            self._eligible_seen = 0

    def fail_next(
        self,
        endpoint_name: str,
        status: int = 503,
        count: int = 1,
        retry_after: float | None = None,
        drop: bool = False,
    ) -> None:
        """Make the next ``count`` requests to ``endpoint_name`` ("*" = any) fail.

        They get ``status`` (with ``Retry-After`` when given, or the default one for 429), or
        with ``drop=True`` their connection is closed unanswered. Applies regardless of
        ``only_endpoints``; entries are used in the order they were queued.
        """
        if endpoint_name != ANY_ENDPOINT:
            _check_endpoint(endpoint_name, "fail_next(endpoint_name)")
        if isinstance(status, bool) or not isinstance(status, int) or not 400 <= status <= 599:
            raise ValueError(f"fail_next(status={status!r}): expected a 4xx or 5xx status code")
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ValueError(f"fail_next(count={count!r}): expected a whole number >= 1")
        wait = None if retry_after is None else _check_seconds("retry_after", retry_after)
        with self._lock:
            self._queue.append(_OneShot(endpoint_name, status, count, wait, drop))

    @property
    def pending_one_shots(self) -> int:
        """How many queued one-shot failures are still to happen."""
        with self._lock:
            return sum(entry.remaining for entry in self._queue)

    def hold_answers(self, endpoint_name: str, count: int = 1) -> None:
        """Let the next ``count`` requests to ``endpoint_name`` act, and hold their answers.

        The session is created (or paused, resumed...) as usual, but the answer is kept until
        :meth:`release_held`, as when a slow gateway or a dying worker leaves a client not
        knowing what its request did.
        """
        _check_endpoint(endpoint_name, "hold_answers(endpoint_name)")
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ValueError(f"hold_answers(count={count!r}): expected a whole number >= 1")
        with self._lock:
            self._holds[endpoint_name] = self._holds.get(endpoint_name, 0) + count

    def release_held(self) -> None:
        """Send every held answer now; answers still to be held are held no more."""
        with self._lock:
            self._holds.clear()
            self._holding = 0
            self._release_round += 1

    @property
    def held(self) -> int:
        """How many answers are held and not yet released."""
        with self._lock:
            return self._holding

    def take_hold(self, endpoint: str) -> int | None:
        """Called by the server after the API acted: the release round to wait for, or None."""
        with self._lock:
            remaining = self._holds.get(endpoint, 0)
            if not remaining:
                return None
            if remaining == 1:
                del self._holds[endpoint]
            else:
                self._holds[endpoint] = remaining - 1
            self._holding += 1
            return self._release_round

    def is_released(self, hold: int) -> bool:
        """Whether the answer held in release round ``hold`` may go."""
        with self._lock:
            return self._release_round != hold

    # ---- decision ----------------------------------------------------------------------

    def decide(self, endpoint: str) -> FaultDecision:
        """Called once per request by the server."""
        with self._lock:
            for entry in self._queue:
                if entry.endpoint in (ANY_ENDPOINT, endpoint):
                    entry.remaining -= 1
                    if entry.remaining == 0:
                        self._queue.remove(entry)
                    retry_after = entry.retry_after
                    if retry_after is None and entry.status == 429:
                        retry_after = self._retry_after
                    status = None if entry.drop else entry.status
                    return FaultDecision(drop=entry.drop, status=status, retry_after=retry_after)
            if self._only_endpoints is not None and endpoint not in self._only_endpoints:
                return FaultDecision()
            latency = self._latency
            if self._drop_rate and self._random.random() < self._drop_rate:
                return FaultDecision(latency=latency, drop=True)
            if self._error_rate and self._random.random() < self._error_rate:
                return FaultDecision(latency=latency, status=self._error_status)
            self._eligible_seen += 1
            limited = bool(self._rate_limit_every) and self._eligible_seen % self._rate_limit_every == 0
            if not limited and self._rate_limit_rate:
                limited = self._random.random() < self._rate_limit_rate
            if limited:
                return FaultDecision(latency=latency, status=429, retry_after=self._retry_after)
            return FaultDecision(latency=latency)


def format_retry_after(seconds: float) -> str:
    """``Retry-After`` value: whole seconds as an integer, fractions kept for fast tests."""
    return str(int(seconds)) if float(seconds).is_integer() else f"{seconds:g}"


__all__ = ["ANY_ENDPOINT", "ENDPOINTS", "UNKNOWN_ENDPOINT", "FaultDecision", "Faults", "format_retry_after"]
