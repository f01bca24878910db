"""The workspace report: one row per session (what it costs, how long until it shuts down), totals and CSV.

Rows are primitives (XCom- and JSON-friendly) with display strings next to the raw numbers they
come from; partial session objects give ``None`` cells, never a crash. With ``include_access`` a
row also says what the session mounts and links (the access audit).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from airflow_provider_cloudos.core.formatters import (
    as_mapping,
    csv_text,
    finite_float,
    format_cost,
    format_duration,
    format_instance_type,
    format_timestamp,
    session_summary,
    write_output,
)
from airflow_provider_cloudos.core.spec import as_utc, read_instant
from airflow_provider_cloudos.core.status import LIVE_STATUSES

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
    data = as_mapping(item.get("data"))
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


def _time_to_shutdown(summary: dict[str, Any], now: datetime) -> tuple[int | None, str | None]:
    """Seconds and words until auto-shutdown, for live sessions only (a paused one is not billing)."""
    moment = read_instant(summary["auto_shutdown_at"] or "")
    if summary["status"] not in LIVE_STATUSES or moment is None:
        return None, None
    seconds = math.floor((as_utc(moment) - as_utc(now)).total_seconds())
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
        summary = session_summary(session, base_url)
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
    rows = list(rows)
    costs = [finite_float(row.get("cost_usd")) or 0.0 for row in rows]
    statuses = [str(row.get("status")) for row in rows]
    live_costs = [cost for cost, status in zip(costs, statuses, strict=True) if status in LIVE_STATUSES]
    return {
        "count": len(rows),
        "by_status": {status: statuses.count(status) for status in sorted(set(statuses))},
        "total_cost_usd": round(sum(costs, 0.0), 6),
        "total_cost": format_cost(sum(costs, 0.0)),
        "live_count": len(live_costs),
        "live_cost_usd": round(sum(live_costs, 0.0), 6),
    }


def _csv_cell(value: Any) -> str:
    if isinstance(value, list):
        return "; ".join(str(item) for item in value)
    return "" if value is None else str(value)


def report_csv(
    rows: Iterable[Mapping[str, Any]], output_file: str | None = None, *, include_access: bool = False
) -> str:
    """The report as CSV, header first, quoted by the csv module; also written to ``output_file`` if set.

    ``include_access`` adds the "Mounted files" and "Linked folders" columns (each separated by ``;``).
    """
    columns = REPORT_COLUMNS + (ACCESS_COLUMNS if include_access else ())
    cells = ([_csv_cell(row.get(key)) for key, _ in columns] for row in rows)
    return write_output(csv_text([header for _, header in columns], cells), output_file)
