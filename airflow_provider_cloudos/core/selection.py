"""Which sessions of a workspace a fleet action applies to.

A fleet action ("pause every running session at 8 pm except these") lists the workspace's
sessions and keeps the ones a :class:`SessionFilter` matches. The filter is a pure function of a
session object, so the operators and their tests decide alike without a server. Every refusal is a
:class:`CloudOSValidationError` naming the parameter and the value, raised before any HTTP call.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from airflow_provider_cloudos.core.errors import CloudOSValidationError
from airflow_provider_cloudos.core.formatters import format_cost, format_duration, session_summary
from airflow_provider_cloudos.core.spec import (
    is_unset,
    parse_bool,
    parse_runtime,
    parse_string_list,
    parse_usd,
    parse_watch_timeout_duration,
    require_session_id,
)
from airflow_provider_cloudos.core.status import RUNNING, normalize_statuses

#: What a fleet action selects when the user names no status: the sessions that bill right now.
DEFAULT_FILTER_STATUSES: frozenset[str] = frozenset({RUNNING})


@dataclass(frozen=True, slots=True)
class SessionFilter:
    """Which sessions of a workspace a fleet action applies to.

    Every condition must hold. ``statuses`` and ``only_owner`` are also sent to the list endpoint,
    so the server does most of the selecting; :meth:`matches` checks everything it can again,
    because a server that ignores a filter must not make the action touch the wrong sessions.
    ``only_owner`` cannot be checked locally (a session object does not say who "me" is).

    ``name_pattern`` and ``exclude_names`` are shell-style globs (``nightly-*``), case-sensitive;
    a plain name matches only itself. ``min_runtime_seconds`` and ``min_cost_usd`` are inclusive:
    a session that has run exactly two hours matches ``min_runtime_seconds=7200``.

    Build it from rendered operator parameters with :meth:`from_params`, which names the
    operator's parameters in its errors. Direct construction is checked and normalised too.
    Immutable; equal to (and hashed like) another filter with the same fields.
    """

    statuses: frozenset[str] = DEFAULT_FILTER_STATUSES
    only_owner: bool = False
    name_pattern: str | None = None
    min_runtime_seconds: int | None = None
    min_cost_usd: float | None = None
    exclude_names: frozenset[str] = frozenset()
    exclude_ids: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        """Check and normalise the fields once, so that every filter compares and hashes alike."""
        if not isinstance(self.only_owner, bool):
            raise CloudOSValidationError("only_owner", self.only_owner, "expected True or False")
        pattern = self.name_pattern
        if pattern is not None and (not isinstance(pattern, str) or not pattern.strip()):
            raise CloudOSValidationError("name_pattern", pattern, "expected a non-empty glob pattern")
        runtime = self.min_runtime_seconds
        normalised = {
            "statuses": normalize_statuses(self.statuses, parameter="statuses"),
            "min_runtime_seconds": None
            if runtime is None
            else parse_watch_timeout_duration(runtime, parameter="min_runtime_seconds"),
            "min_cost_usd": parse_usd(self.min_cost_usd, "min_cost_usd", allow_zero=True),
            "exclude_names": frozenset(parse_string_list(self.exclude_names, "exclude_names")),
            "exclude_ids": frozenset(
                require_session_id(item, "exclude_ids")
                for item in parse_string_list(self.exclude_ids, "exclude_ids")
            ),
        }
        for name, value in normalised.items():
            object.__setattr__(self, name, value)  # frozen: the one way to store the clean value

    @classmethod
    def from_params(
        cls,
        *,
        statuses: str | Iterable[str] | None = None,
        only_owner: bool | str = False,
        name_pattern: str | None = None,
        min_runtime: str | float | timedelta | None = None,
        min_cost_usd: str | float | None = None,
        exclude_names: str | Iterable[str] | None = None,
        exclude_ids: str | Iterable[str] | None = None,
    ) -> SessionFilter:
        """The filter from rendered operator parameters (strings from templates are fine).

        ``statuses`` is a display or API status, a list, or a comma-separated string; empty means
        the default (running). ``min_runtime`` is a duration (``"2h"``, ``"30m"``) or seconds.
        """
        wanted = DEFAULT_FILTER_STATUSES
        if not is_unset(statuses):
            items = parse_string_list(statuses, "statuses")
            if not items:
                raise CloudOSValidationError("statuses", statuses, "at least one status is required")
            wanted = normalize_statuses(items, parameter="statuses")
        pattern = None if is_unset(name_pattern) else name_pattern
        if pattern is not None and not isinstance(pattern, str):
            raise CloudOSValidationError(
                "name_pattern", name_pattern, "expected a glob pattern such as 'nightly-*'"
            )
        return cls(
            statuses=wanted,
            only_owner=parse_bool(only_owner, "only_owner"),
            name_pattern=pattern.strip() if pattern is not None else None,
            min_runtime_seconds=parse_runtime(min_runtime, "min_runtime"),
            min_cost_usd=parse_usd(min_cost_usd, "min_cost_usd", allow_zero=True),
            exclude_names=frozenset(parse_string_list(exclude_names, "exclude_names")),
            exclude_ids=frozenset(parse_string_list(exclude_ids, "exclude_ids")),
        )

    def why_not(self, session: Mapping[str, Any]) -> str | None:
        """None when the session matches; otherwise the first condition it fails, in words."""
        summary = session_summary(session)
        session_id = summary["id"] or "(no id)"
        name = summary["name"] or ""
        if session_id in self.exclude_ids:
            return f"session {session_id} is on the exclude_ids list"
        excluded = next(
            (glob for glob in sorted(self.exclude_names) if name == glob or fnmatch.fnmatchcase(name, glob)),
            None,
        )
        if excluded is not None:
            shown = f"name {name!r} is" if excluded == name else f"name {name!r} matches {excluded!r}"
            return f"{shown} on the exclude_names list"
        if summary["status"] not in self.statuses:
            wanted = " or ".join(sorted(self.statuses))
            return f"status {summary['status']} is not {wanted}"
        if self.name_pattern is not None and not fnmatch.fnmatchcase(name, self.name_pattern):
            return f"name {name!r} does not match {self.name_pattern!r}"
        if self.min_runtime_seconds is not None and summary["runtime_seconds"] < self.min_runtime_seconds:
            return (
                f"runtime {format_duration(summary['runtime_seconds'])} is below "
                f"{format_duration(self.min_runtime_seconds)}"
            )
        if self.min_cost_usd is not None and summary["cost_usd"] < self.min_cost_usd:
            return f"cost {format_cost(summary['cost_usd'])} is below {format_cost(self.min_cost_usd)}"
        return None

    def matches(self, session: Mapping[str, Any]) -> bool:
        return self.why_not(session) is None

    def describe(self) -> str:
        """The selection in one line, for the task log."""
        conditions = (  # (whether it applies, its words)
            (True, f"{' or '.join(sorted(self.statuses))} sessions"),
            (self.only_owner, "owned by this API key's user"),
            (self.name_pattern is not None, f"named like {self.name_pattern!r}"),
            (
                self.min_runtime_seconds is not None,
                f"running at least {format_duration(self.min_runtime_seconds)}",
            ),
            (self.min_cost_usd is not None, f"costing at least {format_cost(self.min_cost_usd)}"),
            (bool(self.exclude_names), f"except names {', '.join(sorted(self.exclude_names))}"),
            (bool(self.exclude_ids), f"except ids {', '.join(sorted(self.exclude_ids))}"),
        )
        return ", ".join(words for applies, words in conditions if applies)
