"""One waiting contract for every waiter: the hook's blocking wait, the trigger and the sensor.

A :class:`StatusWatch` is fed each observed session object and answers whether the wait is
over, and whether the status changed since the last observation. Waiters log only changes, so a
task log tells the story (``setup`` after 0s, ``initialising`` after 42s, ``running`` after
3m 10s) instead of one line per poll.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_cloudos.core.formatters import format_duration
from airflow_provider_cloudos.core.status import (
    FAILURE_STATUSES,
    WaitOutcome,
    evaluate_status,
    map_status,
    normalize_statuses,
)


def _format_elapsed(seconds: float) -> str:
    """Like :func:`format_duration`, but a wait that just began reads "0s", not "Not started"."""
    return format_duration(seconds) if seconds >= 1 else "0s"


@dataclass(slots=True)
class StatusWatch:
    """Tracks one wait for a session to reach ``targets``.

    ``targets`` and ``failures`` are display statuses (API names are accepted and mapped);
    ``started_at`` is a wall-clock epoch so a watch re-created on another machine (a trigger
    moved to another triggerer) reports the elapsed time of the whole wait. ``last_status`` and
    ``last_api_status`` start as None and follow the observations. Mutable, so unhashable.
    """

    session_id: str
    targets: frozenset[str]
    failures: frozenset[str] = FAILURE_STATUSES
    started_at: float = 0.0
    url: str | None = None
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
        parameters: tuple[str, str] = ("target_status", "failure_status"),
    ) -> StatusWatch:
        """Validate the wanted and failure statuses; errors name ``parameters`` (the caller's names)."""
        target_name, failure_name = parameters
        target_set = normalize_statuses(targets, parameter=target_name)
        failure_set = (
            FAILURE_STATUSES - target_set
            if failures is None
            else (normalize_statuses(failures, parameter=failure_name) if failures else frozenset())
        )
        return cls(
            session_id=session_id,
            targets=target_set,
            failures=failure_set,
            started_at=started_at,
            url=url,
        )

    def observe(self, session: Mapping[str, Any] | None) -> tuple[WaitOutcome, bool]:
        """Record one observation; return the outcome and whether the status changed."""
        api_status = None if session is None else session.get("status")
        display = map_status(api_status if isinstance(api_status, str) else None)
        changed = display != self.last_status
        self.last_status = display
        self.last_api_status = api_status if isinstance(api_status, str) else None
        return evaluate_status(display, self.targets, self.failures), changed

    def change_message(self, now: float) -> str:
        """The log line for a status change: what, after how long, and where to look."""
        where = f" ({self.url})" if self.url else ""
        return (
            f"Session {self.session_id} is {self.last_status} after "
            f"{_format_elapsed(now - self.started_at)}{where}"
        )

    def elapsed(self, now: float) -> float:
        return max(0.0, now - self.started_at)

    def describe_targets(self) -> str:
        return " or ".join(sorted(self.targets))


__all__ = ["StatusWatch"]
