"""Does a live session have the settings a create task asks for?

A re-run create task looks for a live session with its name, so that a retry never pays for a
second session. A session of that name is only the task's own when it is what the task asks
for: a run that asks for RStudio on ``m5.2xlarge`` with 200 GB must not carry on with somebody's
VS Code session of 1,000 GB that happens to share the name. This module compares the two, setting
by setting, in the operator's own parameter names and values, so that a refusal can show both.

A setting the API did not report (a partial session object) cannot be compared and is not held
against the session. The auto-shutdown time is not compared: it is an instant that depends on
when the session was made. Mounts and links are compared once resolved: every file and folder the
task asks for must be on the session (a session may carry more, added when it was resumed).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from airflow_provider_cloudos.core.errors import shown_value
from airflow_provider_cloudos.core.formatters import as_mapping, session_summary
from airflow_provider_cloudos.core.spec import BACKEND_TO_SESSION_TYPE, SessionSpec

#: The names people use, from the platform's friendly session type names.
_FRIENDLY_TYPES = {"VS Code": "vscode"} | {name: name.lower() for name in ("Jupyter", "RStudio", "Spark")}


@dataclass(frozen=True, slots=True)
class SettingDifference:
    """One setting on which a session differs from what a task asks for."""

    parameter: str
    wanted: Any
    found: Any

    def describe(self) -> str:
        wanted, found = shown_value(self.wanted), shown_value(self.found)
        return f"{self.parameter}: the task asks for {wanted}, the session has {found}"


def _plain_number(value: Any) -> Any:
    """``50.0`` shown as ``50``: limits read the same in both columns of a refusal."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _item_key(item: Any) -> tuple[str, ...] | None:
    """What identifies a mounted file or linked folder, whichever way the API spells it."""
    if not isinstance(item, Mapping):
        return None
    if item.get("kind") == "File" and item.get("item"):
        return ("file", str(item["item"]))
    data = as_mapping(item.get("data"))
    if item.get("type") == "S3File":
        return ("s3file", str(data.get("s3BucketName")), str(data.get("s3ObjectKey")))
    if item.get("type") == "S3Folder":
        return ("s3folder", str(data.get("s3BucketName")), str(data.get("s3Prefix")))
    return None


def _item_label(item: Mapping[str, Any]) -> str:
    data = as_mapping(item.get("data"))
    if item.get("type") == "S3File":
        return f"s3://{data.get('s3BucketName')}/{data.get('s3ObjectKey')}"
    if item.get("type") == "S3Folder":
        return f"{data.get('s3BucketName')}/{data.get('s3Prefix')}"
    return str(item.get("name") or item.get("item"))


def wanted_settings(spec: SessionSpec, project: str) -> dict[str, Any]:
    """What the task asks for, by operator parameter (``project`` is its name or id as given)."""
    return {
        "session_type": BACKEND_TO_SESSION_TYPE[spec.backend],
        "execution_platform": spec.execution_platform,
        "project": project,
        "instance_type": spec.instance_type,
        "storage_size": spec.storage_size,
        "spot": spec.spot,
        "shared": spec.shared,
        "cost_limit": _plain_number(spec.cost_limit),
        **({"r_version": spec.r_version} if spec.r_version is not None else {}),
    }


def found_settings(session: Mapping[str, Any], *, by_project_id: bool) -> dict[str, Any]:
    """The same settings as the API reports them for ``session``; None where it reports nothing."""
    summary = session_summary(session)
    spot = as_mapping(session.get("resources")).get("isCostSaving")
    configuration = as_mapping(session.get("interactiveSessionConfiguration"))
    visibility = configuration.get("visibility")
    r_version = session.get("rVersion") or configuration.get("rVersion")
    project = as_mapping(session.get("project")).get("_id" if by_project_id else "name")
    friendly = summary.get("session_type")  # when the configuration names no backend
    session_type = BACKEND_TO_SESSION_TYPE.get(str(configuration.get("backend"))) or (
        _FRIENDLY_TYPES.get(friendly, friendly) if isinstance(friendly, str) else None
    )
    return {
        "session_type": session_type,
        "execution_platform": summary.get("execution_platform"),
        "project": project if isinstance(project, str) else None,
        "instance_type": summary.get("instance_type"),
        "storage_size": summary.get("storage_gb"),
        "spot": spot if isinstance(spot, bool) else None,
        "shared": visibility == "workspace" if isinstance(visibility, str) else None,
        "cost_limit": _plain_number(summary.get("cost_limit_usd")),
        "r_version": r_version if isinstance(r_version, str) else None,
    }


def session_differences(
    spec: SessionSpec,
    session: Mapping[str, Any],
    *,
    project: str,
    by_project_id: bool = False,
    data_items: Sequence[Mapping[str, Any]] | None = None,
    fuse_file_systems: Sequence[Mapping[str, Any]] | None = None,
) -> list[SettingDifference]:
    """Every setting on which ``session`` is not what ``spec`` asks for (empty: it matches).

    ``project`` is the project's name, or its id with ``by_project_id``. ``data_items`` and
    ``fuse_file_systems`` are the task's resolved mounts and links; None skips that comparison.
    """
    wanted = wanted_settings(spec, project)
    found = found_settings(session, by_project_id=by_project_id)
    differences = [
        SettingDifference(parameter, value, found[parameter])
        for parameter, value in wanted.items()
        if found.get(parameter) is not None and found[parameter] != value
    ]
    for parameter, items, key in (
        ("mounts", data_items, "dataItems"),
        ("links", fuse_file_systems, "fuseFileSystems"),
    ):
        carried = session.get(key)
        if items is None or not isinstance(carried, list):
            continue  # nothing asked for, or the session does not say what it carries
        present = {item_key for item_key in map(_item_key, carried) if item_key is not None}
        missing = [_item_label(item) for item in items if _item_key(item) not in present]
        if missing:
            differences.append(SettingDifference(parameter, missing, "none of these"))
    return differences


def describe_settings(settings: Mapping[str, Any]) -> str:
    """``session_type='jupyter', storage_size=500, ...``; unknown settings shown as ``?``."""
    return ", ".join(
        f"{key}={'?' if value is None else shown_value(value)}" for key, value in settings.items()
    )
