"""Waiting for many sessions at once: the batch counterpart of :class:`~.waiting.StatusWatch`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from airflow_provider_cloudos.core.formatters import format_duration, session_summary


class BatchWatch:
    """Tracks one wait for many sessions to reach ``targets``; fed one session object at a time.

    The batch trigger and the fleet operator's blocking wait both use it, so they settle
    sessions, word their messages and log progress the same way: one line when the counts
    change, never one per poll. ``started_at`` is a wall-clock epoch (valid on any machine).
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

    @property
    def done(self) -> bool:
        return not self.pending

    def progress(self) -> tuple[int, int, int]:
        """(reached, failed, pending) counts; a change is worth a log line."""
        return len(self.reached), len(self.failed), len(self.pending)

    def observe(self, session_id: str, session: Mapping[str, Any]) -> None:
        status = session_summary(dict(session))["status"]
        if status in self.targets:
            self.pending.pop(session_id, None)
            self.reached[session_id] = status
        elif status in self.failures:
            self.pending.pop(session_id, None)
            self.failed[session_id] = f"it is {status}"
        else:
            self.pending[session_id] = status

    def refuse(self, session_id: str, why: str) -> None:
        """CloudOS refused to report the session (404, 403...): asking again will not help."""
        self.pending.pop(session_id, None)
        self.failed[session_id] = why

    def _describe_targets(self) -> str:
        return " or ".join(sorted(self.targets))

    def _elapsed(self, now: float) -> str:
        seconds = max(0.0, now - self.started_at)
        return format_duration(seconds) if seconds >= 1 else "0s"

    def progress_message(self, now: float) -> str:
        reached, failed, pending = self.progress()
        return (
            f"{reached} of {self.total} sessions {self._describe_targets()} after {self._elapsed(now)}"
            + (f", {failed} failed" if failed else "")
            + f"; waiting for {pending}"
        )

    def outcome_message(self) -> str:
        """Once :attr:`done`: all reached, or which ones failed and why."""
        if not self.failed:
            return f"All {self.total} sessions are {self._describe_targets()}"
        reasons = "; ".join(f"{session_id}: {why}" for session_id, why in sorted(self.failed.items()))
        return (
            f"{len(self.failed)} of {self.total} sessions did not become "
            f"{self._describe_targets()}: {reasons}"
        )

    def timeout_message(self, now: float) -> str:
        waiting = ", ".join(
            f"{session_id} ({status or 'unknown'})" for session_id, status in sorted(self.pending.items())
        )
        cause = f"; last error: {self.last_error}" if self.last_error else ""
        return (
            f"{len(self.pending)} of {self.total} sessions did not become {self._describe_targets()} "
            f"within {self._elapsed(now)}: {waiting}{cause}"
        )


__all__ = ["BatchWatch"]
