"""Session objects turned into text for logs and files, and into primitives for XCom.

The ``format_*`` helpers, ``transform_session_response`` and the export functions keep the
official client's names, keys and output formats, so reports look the same. Its defects are
fixed: a session object is often partial (the API leaves fields out, or sends ``null`` for a
nested object), and nothing here crashes on that, whatever the field holds; CSV values are quoted
by the ``csv`` module, so a session name with a comma or a quote survives a round trip.

:func:`session_summary` is the provider's own: a flat, JSON-serialisable dict that operators push
to XCom, with raw numbers rather than display strings.

A deployment's base URL comes from an Airflow connection where people type ``cloudos.lifebit.ai``,
``https://cloudos.lifebit.ai/`` or nothing at all; :func:`normalize_base_url` normalises it once,
and :func:`shown_url` is how a message may show a URL (no credentials, query or fragment).
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable, Mapping
from contextlib import suppress
from typing import Any
from urllib.parse import quote, urlsplit

from airflow_provider_cloudos.core.errors import CloudOSValidationError
from airflow_provider_cloudos.core.spec import is_unset, read_instant, require_session_id, stripped_string
from airflow_provider_cloudos.core.status import map_status

# csv and json are imported where they are used, to keep them out of the core's import time
# (see BENCHMARKS.md).

#: ``interactiveSessionType`` values → the names people use (an unknown value is shown as it is):
#: each type on both clouds (RStudio spelled both ways), and Windows on AWS only.
SESSION_TYPE_NAMES: dict[str, str] = {
    f"{cloud}{kind}": name
    for cloud in ("aws", "azure")
    for kind, name in (
        ("JupyterNotebook", "Jupyter"),
        ("VSCode", "VS Code"),
        ("Rstudio", "RStudio"),
        ("RStudio", "RStudio"),
        ("Spark", "Spark"),
        ("JupyterSparkNotebook", "Spark"),
    )
} | {"awsWindowsSession": "Windows"}

#: The official CSV's columns: row key → header.
CSV_COLUMNS: dict[str, str] = {
    "id": "ID",
    "name": "Name",
    "status": "Status",
    "backend_type": "Backend",
    "instance_type": "Instance",
    "storage_size": "Storage",
    "cost": "Cost",
    "runtime": "Runtime",
    "created_at": "Created",
}


# --- URLs of a CloudOS deployment ---------------------------------------------------------------------

DEFAULT_BASE_URL = "https://cloudos.lifebit.ai"
#: Where the CloudOS web app shows a session: this path, then the session id.
SESSION_PAGE_PATH = "/app/data-science/interactive-analysis/view/"


def normalize_base_url(url: str | None) -> str:
    """Return ``url`` with a scheme and without trailing slashes; unset (:func:`is_unset`) means the default.

    A missing scheme gets ``https://`` (an API key must not travel in clear text by accident);
    an explicit ``http://`` is kept, since local simulators and private deployments use it.
    """
    if is_unset(url):
        return DEFAULT_BASE_URL
    candidate = stripped_string(url, "base_url")
    if "://" not in candidate:
        candidate = f"https://{candidate}"
    parts = urlsplit(candidate)
    if parts.scheme.lower() not in ("http", "https"):
        raise CloudOSValidationError("base_url", url, "the scheme must be http or https")
    if not parts.netloc:
        raise CloudOSValidationError("base_url", url, "a host name is required")
    if parts.query or parts.fragment:
        raise CloudOSValidationError("base_url", url, "a base URL must not contain a query or fragment")
    return candidate.rstrip("/")


def shown_url(url: str) -> str:
    """``url`` as a message may show it: scheme, host, port and path only.

    Credentials (``user:password@``), the query (the workspace id, a token) and the fragment are
    left out: a message may be logged, pasted into a ticket or shown in Airflow's UI.
    """
    parts = urlsplit(url.strip())
    if not parts.scheme or not parts.netloc:
        return url.strip().split("?", 1)[0].split("#", 1)[0].rsplit("@", 1)[-1]
    host = parts.netloc.rsplit("@", 1)[-1]
    return f"{parts.scheme}://{host}{parts.path}".rstrip("/")


def session_url(base_url: str | None, session_id: str) -> str:
    """The web page of a session, as the CloudOS UI shows it."""
    session = require_session_id(session_id)
    return f"{normalize_base_url(base_url)}{SESSION_PAGE_PATH}{quote(session, safe='')}"


# --- small formatters ---------------------------------------------------------------------------------


def finite_float(value: Any) -> float | None:
    """A finite float from a number or a numeric string; None for anything else (bools included)."""
    if isinstance(value, bool):  # None and other non-numbers are refused by float()
        return None
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def format_duration(seconds: Any) -> str:
    """``3725`` → ``"1h 2m 5s"``; zero, negative or unreadable → ``"Not started"``."""
    total = int(finite_float(seconds) or 0)
    if total <= 0:
        return "Not started"
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return " ".join(f"{count}{unit}" for count, unit in ((hours, "h"), (minutes, "m"), (secs, "s")) if count)


def format_cost(cost_value: Any = None) -> str:
    """``1.5`` → ``"$1.50"``; missing or unreadable → ``"$0.00"``; ``-1`` → ``"$-1.00"``."""
    number = finite_float(cost_value)
    return f"${number if number is not None else 0.0:.2f}"


def format_timestamp(iso_timestamp: Any = None) -> str:
    """ISO-8601 → ``"YYYY-MM-DD HH:MM:SS"`` in the timestamp's own offset.

    Missing → ``"N/A"``; unreadable → the input as text (better shown raw than hidden).
    """
    if not iso_timestamp:
        return "N/A"
    text = str(iso_timestamp).strip()
    moment = read_instant(text)
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment is not None else text


def format_instance_type(instance_type: Any, is_cost_saving: Any = False) -> str:
    """``"c5.xlarge"`` or ``"c5.xlarge (spot)"``; a missing type reads ``"N/A"``."""
    name = str(instance_type) if instance_type else "N/A"
    return f"{name} (spot)" if is_cost_saving is True else name


# --- reading a partial session object ------------------------------------------------------------------


def as_mapping(value: Any) -> Mapping[str, Any]:
    """``value`` when it is an object (a session, or one nested in it), else ``{}`` (missing, ``null``...)."""
    return value if isinstance(value, Mapping) else {}


def _text(value: Any) -> str | None:
    """A non-empty string for a scalar value, else None."""
    if value is None or isinstance(value, (dict, list, tuple)):
        return None
    text = str(value).strip()
    return text or None


def transform_session_response(api_response: Any) -> dict[str, Any]:
    """The 14 display fields of a session object, as the official client shows them.

    Keys: id, name, status, backend_type, owner, project, instance_type, storage_size, cost,
    runtime, created_at, last_saved, auto_shutdown, r_version. Missing values read ``'N/A'``
    (``None`` for last_saved, auto_shutdown and r_version), whatever shape the object has: the
    display strings of :func:`session_summary`'s values.
    """
    summary = session_summary(api_response)
    storage, shutdown = summary["storage_gb"], summary["auto_shutdown_at"]
    return {
        "id": summary["id"] or "",
        "name": summary["name"] or "N/A",
        "status": summary["status"] if summary["api_status"] else "N/A",
        "backend_type": summary["session_type"] or "",
        "owner": summary["owner"] or "N/A",
        "project": summary["project"] or "N/A",
        "instance_type": format_instance_type(summary["instance_type"], summary["spot"]),
        "storage_size": f"{storage} GB" if storage is not None else "N/A",
        "cost": format_cost(summary["cost_usd"]),
        "runtime": format_duration(summary["runtime_seconds"]),
        "created_at": format_timestamp(summary["created_at"]),
        "last_saved": format_timestamp(summary["last_saved_at"]) if summary["last_saved_at"] else None,
        "auto_shutdown": format_timestamp(shutdown) if shutdown else None,
        "r_version": _text(as_mapping(api_response).get("rVersion")),
    }


# --- exports -----------------------------------------------------------------------------------------


def write_output(text: str, output_file: str | None) -> str:
    """``text``, also written to ``output_file`` unless that is unset."""
    if not is_unset(output_file):
        with open(str(output_file), "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
    return text


def export_session_status_json(session_data: Any, output_file: str | None = None) -> str:
    """The session object (usually the raw API response) as indented JSON; also written to a file."""
    import json

    return write_output(json.dumps(session_data, indent=2, default=str), output_file)


def csv_text(header: Iterable[str], rows: Iterable[Iterable[str]]) -> str:
    """``header`` then ``rows``, quoted by the csv module, each line ending with a newline."""
    import csv

    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([header, *rows])
    return buffer.getvalue()


def export_session_status_csv(session_data: Any, output_file: str | None = None) -> str:
    """The official two-line CSV (header, values; no trailing newline), properly quoted.

    Expects the output of :func:`transform_session_response`; a raw API object (``_id`` but no ``id``)
    is transformed.
    """
    data = as_mapping(session_data)
    if "id" not in data and "_id" in data:
        data = transform_session_response(data)
    row = [str(data.get(key)) if data.get(key) else "" for key in CSV_COLUMNS]
    return write_output(csv_text(CSV_COLUMNS.values(), [row])[: -len("\n")], output_file)


# --- XCom summary ---------------------------------------------------------------------------------------


def session_summary(session: Any, base_url: str | None = None) -> dict[str, Any]:
    """A flat dict of primitives about a session, safe to push to XCom (JSON-serialisable).

    Numbers stay numbers (``cost_usd``, ``runtime_seconds``); timestamps stay ISO strings as the
    API sent them; anything missing is ``None``. ``url`` is the session's web page when
    ``base_url`` is given and the session has an id.
    """
    data = as_mapping(session)
    resources = as_mapping(data.get("resources"))
    execution = as_mapping(data.get("execution"))
    session_id = _text(data.get("_id"))
    raw_status = _text(data.get("status"))
    runtime = finite_float(data.get("totalRunningTimeInSeconds"))
    session_type = _text(data.get("interactiveSessionType"))
    user = as_mapping(data.get("user"))
    full_name = " ".join(part for part in (_text(user.get("name")), _text(user.get("surname"))) if part)
    storage = resources.get("storageSizeInGb")
    storage = int(storage) if isinstance(storage, float) and storage.is_integer() else storage
    platform = _text(as_mapping(data.get("interactiveSessionConfiguration")).get("executionPlatform"))
    url = None
    if base_url and base_url.strip() and session_id:
        with suppress(CloudOSValidationError):  # an id or a URL that names no page: no link
            url = session_url(base_url, session_id)
    return {
        "id": session_id,
        "name": _text(data.get("name")),
        "status": map_status(raw_status),
        "api_status": raw_status,
        "session_type": SESSION_TYPE_NAMES.get(session_type, session_type) if session_type else None,
        "owner": full_name or _text(user.get("email")),
        "project": _text(as_mapping(data.get("project")).get("name")),
        "instance_type": _text(resources.get("instanceType")),
        "spot": resources.get("isCostSaving") is True,
        "storage_gb": storage if isinstance(storage, int) and not isinstance(storage, bool) else None,
        "cost_usd": finite_float(data.get("totalCostInUsd")) or 0.0,
        "cost_limit_usd": finite_float(execution.get("computeCostLimit")),
        "runtime_seconds": max(int(runtime), 0) if runtime is not None else 0,
        "created_at": _text(data.get("createdAt")),
        "last_saved_at": _text(data.get("lastSavedAt")),
        "auto_shutdown_at": _text(execution.get("autoShutdownAtDate")),
        "url": url,
        "execution_platform": platform.lower()
        if platform
        else next((cloud for cloud in ("aws", "azure") if (session_type or "").startswith(cloud)), None),
    }
