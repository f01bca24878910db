"""Limits on a watched session's cost and runtime, and when one is reached.

"Stop my session once it has spent $50": the sensor, the trigger, the hook's blocking wait and
the session block all ask the same :class:`SessionGuard`, so they fire at the same observation
and say why in the same words. Refusals name the parameter, before any HTTP call.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from airflow_provider_cloudos.core.durations import parse_watch_timeout_duration
from airflow_provider_cloudos.core.formatters import finite_float, format_cost, format_duration
from airflow_provider_cloudos.core.user_values import parse_runtime, parse_usd


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
        if self.max_cost_usd is not None:
            object.__setattr__(self, "max_cost_usd", parse_usd(self.max_cost_usd, "max_cost_usd"))
        if self.max_runtime_seconds is not None:
            seconds = parse_watch_timeout_duration(self.max_runtime_seconds, parameter="max_runtime_seconds")
            object.__setattr__(self, "max_runtime_seconds", float(seconds))

    @classmethod
    def from_params(cls, *, max_cost_usd: Any = None, max_runtime: Any = None) -> SessionGuard:
        """The guard from rendered operator parameters; errors name ``max_cost_usd``/``max_runtime``."""
        runtime = parse_runtime(max_runtime, "max_runtime")
        return cls(
            max_cost_usd=parse_usd(max_cost_usd, "max_cost_usd"),
            max_runtime_seconds=float(runtime) if runtime is not None else None,
        )

    @property
    def active(self) -> bool:
        return self.max_cost_usd is not None or self.max_runtime_seconds is not None

    def check(self, session: Mapping[str, Any]) -> str | None:
        """The reason the guard fires for this session object, or None."""
        reasons = []
        if self.max_cost_usd is not None:
            cost = finite_float(session.get("totalCostInUsd")) or 0.0
            if cost >= self.max_cost_usd:
                reasons.append(
                    f"cost {format_cost(cost)} reached the limit of {format_cost(self.max_cost_usd)}"
                )
        if self.max_runtime_seconds is not None:
            runtime = finite_float(session.get("totalRunningTimeInSeconds")) or 0.0
            if runtime >= self.max_runtime_seconds:
                reasons.append(
                    f"runtime {format_duration(runtime)} reached the limit of "
                    f"{format_duration(self.max_runtime_seconds)}"
                )
        return " and ".join(reasons) or None

    def describe(self) -> str:
        limits = []
        if self.max_cost_usd is not None:
            limits.append(f"cost reaches {format_cost(self.max_cost_usd)}")
        if self.max_runtime_seconds is not None:
            limits.append(f"runtime reaches {format_duration(self.max_runtime_seconds)}")
        return " or ".join(limits) or "no guard"

    def trigger_kwargs(self) -> dict[str, float]:
        """The limits that are set, as a trigger's serialized keyword arguments (primitives)."""
        kwargs: dict[str, float] = {}
        if self.max_cost_usd is not None:
            kwargs["max_cost_usd"] = self.max_cost_usd
        if self.max_runtime_seconds is not None:
            kwargs["max_runtime_seconds"] = self.max_runtime_seconds
        return kwargs


__all__ = ["SessionGuard"]
