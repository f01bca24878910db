"""Many sessions at once: which ones a fleet action selects, when a watched one has cost enough, and a report.

The official client works one session at a time. Teams ask a scheduler for more: "pause every
running session at 8 pm except these", "stop my session once it has spent $50", "show me what is
costing money". The decisions behind those (does this session match, has it crossed its guard,
what does the report row say) are pure functions of a session object, kept here so that the
operators, the sensor, the trigger and the hook's blocking wait all decide the same way, and so
that they can be tested without a server.

Every value a user types arrives here first, after templating: each refusal is a
:class:`CloudOSValidationError` naming the parameter and the value, raised before any HTTP call.
"""

from __future__ import annotations

import fnmatch
import io
import math
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from airflow_provider_cloudos.core.durations import parse_watch_timeout_duration
from airflow_provider_cloudos.core.errors import CloudOSValidationError
from airflow_provider_cloudos.core.formatters import (
    format_cost,
    format_duration,
    format_instance_type,
    format_timestamp,
    session_summary,
)
from airflow_provider_cloudos.core.lists import split_strings
from airflow_provider_cloudos.core.records import FrozenRecord
from airflow_provider_cloudos.core.status import LIVE_STATUSES, RUNNING, normalize_statuses
from airflow_provider_cloudos.core.validators import parse_bool, require_session_id
from airflow_provider_cloudos.core.waiting import BatchWatch  # lives beside StatusWatch; kept importable here

#: What a fleet action selects when the user names no status: the sessions that bill right now.
DEFAULT_FILTER_STATUSES: frozenset[str] = frozenset({RUNNING})

#: Rendered templates of an unset value (``{{ params.x }}`` with ``x = None``) read as "not set".
_UNSET_TEXTS = frozenset({"", "none", "null"})


# --- reading user values ----------------------------------------------------------------------------


def _is_unset(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip().lower() in _UNSET_TEXTS)


def parse_usd(value: Any, parameter: str, *, allow_zero: bool = False) -> float | None:
    """An amount of USD from a number or a rendered template; None when not set.

    Zero is refused for a guard (it would fire at once: a configuration mistake) but allowed for
    a minimum ("cost at least $0" simply selects everything).
    """
    if _is_unset(value):
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise CloudOSValidationError(parameter, value, "expected an amount of USD such as 50 or 12.5")
    try:
        amount = float(value.strip() if isinstance(value, str) else value)
    except (ValueError, OverflowError):
        raise CloudOSValidationError(
            parameter, value, "expected an amount of USD such as 50 or 12.5"
        ) from None
    if not math.isfinite(amount):
        raise CloudOSValidationError(parameter, value, "expected a finite amount of USD")
    if amount < 0 or (amount == 0 and not allow_zero):
        bound = "0 or more" if allow_zero else "greater than 0"
        raise CloudOSValidationError(parameter, value, f"the amount must be {bound}")
    return amount


def parse_runtime(value: Any, parameter: str) -> int | None:
    """A runtime threshold in seconds (``"2h"``, ``"90m"``, ``3600``, a timedelta); None when not set."""
    if _is_unset(value):
        return None
    return parse_watch_timeout_duration(value, parameter=parameter)


def parse_string_list(value: Any, parameter: str) -> tuple[str, ...]:
    """A list of strings from a list, a comma-separated string or a rendered list literal.

    A list keeps each item whole (a name may contain a comma); a string is split on commas unless
    it reads as a JSON or Python list (what Jinja renders for a list). Blank items are dropped.
    """
    if _is_unset(value):
        return ()
    if isinstance(value, (set, frozenset)):  # names: their order does not matter
        value = list(value)
    return tuple(
        split_strings(value, parameter=parameter, whole="a list of strings or a comma-separated string")
    )


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return 0.0
    return float(value)


# --- selecting sessions -------------------------------------------------------------------------------


class SessionFilter(FrozenRecord):
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

    __match_args__ = (
        "statuses",
        "only_owner",
        "name_pattern",
        "min_runtime_seconds",
        "min_cost_usd",
        "exclude_names",
        "exclude_ids",
    )
    __slots__ = __match_args__

    statuses: frozenset[str]
    only_owner: bool
    name_pattern: str | None
    min_runtime_seconds: int | None
    min_cost_usd: float | None
    exclude_names: frozenset[str]
    exclude_ids: frozenset[str]

    def __init__(
        self,
        statuses: frozenset[str] = DEFAULT_FILTER_STATUSES,
        only_owner: bool = False,
        name_pattern: str | None = None,
        min_runtime_seconds: int | None = None,
        min_cost_usd: float | None = None,
        exclude_names: frozenset[str] = frozenset(),
        exclude_ids: frozenset[str] = frozenset(),
    ) -> None:
        statuses = normalize_statuses(statuses, parameter="statuses")
        if not isinstance(only_owner, bool):
            raise CloudOSValidationError("only_owner", only_owner, "expected True or False")
        if name_pattern is not None and (not isinstance(name_pattern, str) or not name_pattern.strip()):
            raise CloudOSValidationError("name_pattern", name_pattern, "expected a non-empty glob pattern")
        if min_runtime_seconds is not None:
            min_runtime_seconds = parse_watch_timeout_duration(
                min_runtime_seconds, parameter="min_runtime_seconds"
            )
        if min_cost_usd is not None:
            min_cost_usd = parse_usd(min_cost_usd, "min_cost_usd", allow_zero=True)
        self._init_fields(
            statuses=statuses,
            only_owner=only_owner,
            name_pattern=name_pattern,
            min_runtime_seconds=min_runtime_seconds,
            min_cost_usd=min_cost_usd,
            exclude_names=frozenset(parse_string_list(exclude_names, "exclude_names")),
            exclude_ids=frozenset(
                require_session_id(item, "exclude_ids")
                for item in parse_string_list(exclude_ids, "exclude_ids")
            ),
        )

    @classmethod
    def from_params(
        cls,
        *,
        statuses: Any = "running",
        only_owner: Any = False,
        name_pattern: Any = None,
        min_runtime: Any = None,
        min_cost_usd: Any = None,
        exclude_names: Any = None,
        exclude_ids: Any = None,
    ) -> SessionFilter:
        """The filter from rendered operator parameters (strings from templates are fine).

        ``statuses`` is a display or API status, a list, or a comma-separated string; empty means
        the default (running). ``min_runtime`` is a duration (``"2h"``, ``"30m"``) or seconds.
        """
        wanted = DEFAULT_FILTER_STATUSES
        if not _is_unset(statuses):
            items = parse_string_list(statuses, "statuses")
            if not items:
                raise CloudOSValidationError("statuses", statuses, "at least one status is required")
            wanted = normalize_statuses(items, parameter="statuses")
        pattern = None if _is_unset(name_pattern) else name_pattern
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

    def _excluded_name(self, name: str) -> str | None:
        for excluded in sorted(self.exclude_names):
            if name == excluded or fnmatch.fnmatchcase(name, excluded):
                return excluded
        return None

    def why_not(self, session: Mapping[str, Any]) -> str | None:
        """None when the session matches; otherwise the first condition it fails, in words."""
        summary = session_summary(dict(session))
        session_id = summary["id"] or "(no id)"
        name = summary["name"] or ""
        if session_id in self.exclude_ids:
            return f"session {session_id} is on the exclude_ids list"
        excluded = self._excluded_name(name)
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
        parts = [f"{' or '.join(sorted(self.statuses))} sessions"]
        if self.only_owner:
            parts.append("owned by this API key's user")
        if self.name_pattern is not None:
            parts.append(f"named like {self.name_pattern!r}")
        if self.min_runtime_seconds is not None:
            parts.append(f"running at least {format_duration(self.min_runtime_seconds)}")
        if self.min_cost_usd is not None:
            parts.append(f"costing at least {format_cost(self.min_cost_usd)}")
        if self.exclude_names:
            parts.append(f"except names {', '.join(sorted(self.exclude_names))}")
        if self.exclude_ids:
            parts.append(f"except ids {', '.join(sorted(self.exclude_ids))}")
        return ", ".join(parts)


# --- guards on a watched session ---------------------------------------------------------------------


class SessionGuard(FrozenRecord):
    """Limits on a watched session's cost and runtime; :meth:`check` says when one is reached.

    The runtime is the session's own ``totalRunningTimeInSeconds`` (what it has billed for), not
    the time the wait has lasted: that is what a timeout is for. A limit is reached at equality.
    An inactive guard (no limit) never fires. Immutable; equal to (and hashed like) another guard
    with the same limits.
    """

    __match_args__ = ("max_cost_usd", "max_runtime_seconds")
    __slots__ = __match_args__

    max_cost_usd: float | None
    max_runtime_seconds: float | None

    def __init__(self, max_cost_usd: float | None = None, max_runtime_seconds: float | None = None) -> None:
        if max_cost_usd is not None:
            max_cost_usd = parse_usd(max_cost_usd, "max_cost_usd")
        if max_runtime_seconds is not None:
            max_runtime_seconds = float(
                parse_watch_timeout_duration(max_runtime_seconds, parameter="max_runtime_seconds")
            )
        self._init_fields(max_cost_usd=max_cost_usd, max_runtime_seconds=max_runtime_seconds)

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
            cost = _number(session.get("totalCostInUsd"))
            if cost >= self.max_cost_usd:
                reasons.append(
                    f"cost {format_cost(cost)} reached the limit of {format_cost(self.max_cost_usd)}"
                )
        if self.max_runtime_seconds is not None:
            runtime = _number(session.get("totalRunningTimeInSeconds"))
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


# --- waiting for a batch ------------------------------------------------------------------------------


# --- the workspace report --------------------------------------------------------------------------

#: Report columns: row key → CSV header.
REPORT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "ID"),
    ("name", "Name"),
    ("status", "Status"),
    ("type", "Type"),
    ("instance", "Instance"),
    ("owner", "Owner"),
    ("project", "Project"),
    ("cost", "Cost"),
    ("runtime", "Runtime"),
    ("auto_shutdown", "Auto-shutdown"),
    ("time_to_auto_shutdown", "Time to auto-shutdown"),
    ("url", "URL"),
)
#: The access-audit columns a report adds with ``include_access``.
ACCESS_COLUMNS: tuple[tuple[str, str], ...] = (("mounts", "Mounted files"), ("links", "Linked folders"))
#: The session fields that say what a session mounts and links (as its create/resume bodies sent them).
MOUNTS_FIELD = "dataItems"
LINKS_FIELD = "fuseFileSystems"


def describe_access_item(item: Any) -> str:
    """One mounted file or linked folder as the API records it, as a person reads it.

    ``S3File`` → ``s3://bucket/key``; ``S3Folder`` → ``s3://bucket/prefix/`` (a linked project
    folder is recorded with the project as its bucket, and shows so); a CloudOS dataset file
    (``{"kind": "File"}``) → ``name (file <id>)``: the API keeps its id, not its path.
    """
    if not isinstance(item, Mapping):
        return f"unrecognised item {item!r}"
    raw_data = item.get("data")
    data: Mapping[str, Any] = raw_data if isinstance(raw_data, Mapping) else {}
    if item.get("type") == "S3File":
        return f"s3://{data.get('s3BucketName', '')}/{data.get('s3ObjectKey', '')}"
    if item.get("type") == "S3Folder":
        return f"s3://{data.get('s3BucketName', '')}/{data.get('s3Prefix', '')}"
    if item.get("kind") == "File":
        return f"{item.get('name') or '?'} (file {item.get('item') or '?'})"
    return f"unrecognised item {dict(item)!r}"


def session_access(session: Mapping[str, Any]) -> dict[str, list[str] | None]:
    """What a session mounts (``mounts``) and links (``links``), or None where the API did not say.

    None and ``[]`` differ on purpose: an empty list is a session with nothing mounted; None is
    a session object without the field, about which the report cannot tell.
    """
    access: dict[str, list[str] | None] = {}
    for key, field in (("mounts", MOUNTS_FIELD), ("links", LINKS_FIELD)):
        items = session.get(field)
        access[key] = [describe_access_item(item) for item in items] if isinstance(items, list) else None
    return access


def reports_access(session: Mapping[str, Any]) -> bool:
    """Whether a session object says what it mounts and links (list endpoints may leave it out)."""
    return MOUNTS_FIELD in session or LINKS_FIELD in session


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _instant(text: str | None) -> datetime | None:
    if not text:
        return None
    iso = text[:-1] + "+00:00" if text[-1:] in ("Z", "z") else text
    try:
        return _utc(datetime.fromisoformat(iso))
    except ValueError:
        return None


def _time_to_shutdown(summary: dict[str, Any], now: datetime) -> tuple[int | None, str | None]:
    """Seconds and words until auto-shutdown, for live sessions only (a paused one is not billing)."""
    if summary["status"] not in LIVE_STATUSES:
        return None, None
    moment = _instant(summary["auto_shutdown_at"])
    if moment is None:
        return None, None
    seconds = math.floor((moment - _utc(now)).total_seconds())
    return seconds, format_duration(seconds) if seconds > 0 else "due"


def build_session_report(
    sessions: Iterable[Mapping[str, Any]],
    base_url: str | None,
    now: datetime,
    *,
    include_access: bool = False,
) -> list[dict[str, Any]]:
    """One row of primitives per session, the most expensive first (XCom- and JSON-friendly).

    With ``include_access`` each row also has ``mounts`` and ``links`` (see :func:`session_access`).

    Each row has display strings (``cost`` ``"$12.50"``, ``runtime`` ``"2h 5m"``,
    ``time_to_auto_shutdown`` ``"3h 10m"`` or ``"due"``) next to the raw numbers they come from
    (``cost_usd``, ``runtime_seconds``, ``time_to_auto_shutdown_seconds``), so a downstream task
    can both show and compute. ``now`` is the moment the time to auto-shutdown is measured from
    (a naive datetime is taken as UTC). Partial session objects give ``None``, never a crash.
    """
    rows = []
    for session in sessions:
        summary = session_summary(dict(session), base_url)
        seconds, words = _time_to_shutdown(summary, now)
        auto_shutdown = summary["auto_shutdown_at"]
        rows.append(
            {
                "id": summary["id"],
                "name": summary["name"],
                "status": summary["status"],
                "type": summary["session_type"],
                "instance": format_instance_type(summary["instance_type"], summary["spot"]),
                "owner": summary["owner"],
                "project": summary["project"],
                "cost": format_cost(summary["cost_usd"]),
                "cost_usd": summary["cost_usd"],
                "cost_limit_usd": summary["cost_limit_usd"],
                "runtime": format_duration(summary["runtime_seconds"]),
                "runtime_seconds": summary["runtime_seconds"],
                "auto_shutdown_at": auto_shutdown,
                "auto_shutdown": format_timestamp(auto_shutdown) if auto_shutdown else None,
                "time_to_auto_shutdown": words,
                "time_to_auto_shutdown_seconds": seconds,
                "url": summary["url"],
                **(session_access(session) if include_access else {}),
            }
        )
    rows.sort(key=lambda row: (-row["cost_usd"], row["name"] or "", row["id"] or ""))
    return rows


def summarize_report(rows: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Totals over report rows: how many sessions, how many per status, what they cost."""
    count = 0
    total = 0.0
    live_cost = 0.0
    by_status: dict[str, int] = {}
    for row in rows:
        count += 1
        cost = _number(row.get("cost_usd"))
        total += cost
        status = str(row.get("status"))
        by_status[status] = by_status.get(status, 0) + 1
        if status in LIVE_STATUSES:
            live_cost += cost
    return {
        "count": count,
        "by_status": dict(sorted(by_status.items())),
        "total_cost_usd": round(total, 6),
        "total_cost": format_cost(total),
        "live_count": sum(n for status, n in by_status.items() if status in LIVE_STATUSES),
        "live_cost_usd": round(live_cost, 6),
    }


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "; ".join(str(item) for item in value)
    return str(value)


def report_csv(
    rows: Iterable[Mapping[str, Any]], output_file: str | None = None, *, include_access: bool = False
) -> str:
    """The report as CSV, header first, quoted by the csv module; also written to ``output_file``.

    ``include_access`` adds the "Mounted files" and "Linked folders" columns (``; ``-separated).
    """
    import csv  # kept out of the core's import time (see BENCHMARKS.md)

    columns = REPORT_COLUMNS + (ACCESS_COLUMNS if include_access else ())
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([header for _, header in columns])
    for row in rows:
        writer.writerow([_csv_cell(row.get(key)) for key, _ in columns])
    text = buffer.getvalue()
    if output_file:
        with open(output_file, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
    return text


__all__ = [
    "ACCESS_COLUMNS",
    "DEFAULT_FILTER_STATUSES",
    "REPORT_COLUMNS",
    "BatchWatch",
    "SessionFilter",
    "SessionGuard",
    "build_session_report",
    "describe_access_item",
    "parse_runtime",
    "parse_string_list",
    "parse_usd",
    "report_csv",
    "reports_access",
    "session_access",
    "summarize_report",
]
