"""How fast simulated time passes: state durations, billing speed and the clock.

A real session takes minutes to provision; tests want a fraction of a second and the demo a
few seconds. Everything that depends on time reads one injectable clock, so a test can also
drive the simulator with a :class:`ManualClock` and assert exact costs without sleeping.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, fields

#: A monotonic clock in seconds; ``time.monotonic`` unless a test injects another.
Clock = Callable[[], float]


@dataclass(frozen=True)
class StateTimings:
    """Seconds spent in each transitional state (floats; 0 skips through instantly).

    ``billing_speed`` is how many billed seconds pass per real second while a session is
    ready: 1 is real time; the demo uses more so that cost and cost limits move visibly.
    """

    scheduled: float = 0.05
    setup: float = 0.05
    initialising: float = 0.05
    aborting: float = 0.05
    resume_initialising: float = 0.05
    billing_speed: float = 1.0

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError(f"StateTimings.{field.name}={value!r}: expected a finite number of seconds")
            if value < 0:
                raise ValueError(f"StateTimings.{field.name}={value!r}: must not be negative")

    @classmethod
    def fast(cls) -> StateTimings:
        """Tiny durations for tests: a created session is ready after about 0.15 s, and a pause or a
        resume takes as long: a task that reads the session right after asking still finds it
        stopping or starting on a slow, busy machine."""
        return cls(aborting=0.15, resume_initialising=0.15)

    @classmethod
    def demo(cls) -> StateTimings:
        """Durations a person can watch: ready after 12 s, paused 4 s after the request.

        Billing runs a minute per second so that the cost shown in task logs changes.
        """
        return cls(
            scheduled=2.0,
            setup=4.0,
            initialising=6.0,
            aborting=4.0,
            resume_initialising=6.0,
            billing_speed=60.0,
        )

    @property
    def to_ready(self) -> float:
        """Seconds from creation to ``ready``; handy for bounding a test's wait."""
        return self.scheduled + self.setup + self.initialising

    def billing(self) -> str:
        """How billed time relates to real time, in words: costs shown by the simulator (and the
        demo's task logs) grow this much faster than a real session's would."""
        if self.billing_speed == 1:
            return "billed in real time"
        per_second = _BILLED_PER_SECOND.get(self.billing_speed, f"{self.billing_speed:g} seconds")
        return f"billed {self.billing_speed:g}x faster than real time, {per_second} per second"

    def describe(self) -> str:
        """``running after 12 s, billed 60x faster than real time, a minute per second``."""
        return f"running {self.to_ready:g} s after creation, {self.billing()}"


class ManualClock:
    """A clock that moves only when told to, for exact, sleep-free tests of time effects."""

    def __init__(self, start: float = 1000.0) -> None:
        self._now = float(start)
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        """Move time forward; moving backwards would break every duration computed so far."""
        if seconds < 0:
            raise ValueError(f"ManualClock.advance(seconds={seconds!r}): time cannot go backwards")
        with self._lock:
            self._now += seconds


#: The speeds the command-line tools offer by name (the simulator's and the demo's ``--timings``).
NAMED_TIMINGS: dict[str, Callable[[], StateTimings]] = {"demo": StateTimings.demo, "fast": StateTimings.fast}
#: Older names still accepted on the command line: the demo used to call ``fast`` "quick".
TIMINGS_ALIASES = {"quick": "fast"}


#: Billing speeds that read better as a span of time billed per real second.
_BILLED_PER_SECOND = {60.0: "a minute", 3600.0: "an hour"}


def timings_help() -> str:
    """What each named speed means, for the ``--help`` of the simulator and of the demo."""
    described = [f"{name} ({NAMED_TIMINGS[name]().describe()})" for name in sorted(NAMED_TIMINGS)]
    return "session speed: " + " or ".join(described)


def timings_name(text: str) -> str:
    """A ``--timings`` argument with its alias resolved (argparse then checks it is a known name)."""
    return TIMINGS_ALIASES.get(text, text)


def real_clock() -> float:
    """The default clock."""
    return time.monotonic()


__all__ = [
    "NAMED_TIMINGS",
    "TIMINGS_ALIASES",
    "Clock",
    "ManualClock",
    "StateTimings",
    "real_clock",
    "timings_help",
    "timings_name",
]
