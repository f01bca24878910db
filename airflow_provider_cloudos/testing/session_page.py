"""The web page of a simulated session, at the path where CloudOS serves a session's page.

The provider links every task that made or used a session to
``{base_url}/app/data-science/interactive-analysis/view/{id}`` (the "CloudOS Session" button in
Airflow's UI). Against the simulator that link should open something, so the simulator answers
it with a small HTML page: the session's name, status, type and cost, and how fast the simulator
bills. Like the real page it is for a person in a browser: no API key is asked for (a browser
would not send the ``apikey`` header), and it is not part of the API (no fault injection).
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any
from urllib.parse import unquote

from airflow_provider_cloudos.core.formatters import (
    SESSION_PAGE_PATH,
    format_cost,
    format_instance_type,
    session_summary,
)
from airflow_provider_cloudos.testing.messages import HttpRequest, HttpResponse
from airflow_provider_cloudos.testing.timings import StateTimings

#: The name a page view is counted under (``counters.requests("session_page")``).
SESSION_PAGE_ENDPOINT = "session_page"
HTML = "text/html"
#: A browser showing a session that is still changing looks again after this many seconds.
REFRESH_SECONDS = 5

_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2rem;color:#222}"
    "table{border-collapse:collapse}th,td{text-align:left;padding:.3rem 1rem .3rem 0}"
    "th{color:#666;font-weight:normal}.note{color:#666;font-size:.9rem}"
)


def session_page_id(request: HttpRequest) -> str | None:
    """The session id of a ``GET`` for a session's page, or None for any other request."""
    if request.method not in ("GET", "HEAD") or not request.path.startswith(SESSION_PAGE_PATH):
        return None
    session_id = unquote(request.path[len(SESSION_PAGE_PATH) :]).rstrip("/")
    return session_id if session_id and "/" not in session_id else None


def _page(title: str, body: str, *, refresh: bool) -> str:
    meta = f'<meta http-equiv="refresh" content="{REFRESH_SECONDS}">' if refresh else ""
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">{meta}'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>{body}</body></html>"
    )


def session_page(session: Mapping[str, Any], timings: StateTimings) -> HttpResponse:
    """200: the page of ``session`` (as the API shows it now)."""
    summary = session_summary(dict(session))
    status = summary["status"] or "unknown"
    rows = {
        "Name": summary["name"] or "",
        "Status": status,
        "Type": summary["session_type"] or "",
        "Cost": format_cost(summary["cost_usd"]),
        "Instance": format_instance_type(summary["instance_type"], summary["spot"]),
        "Project": summary["project"] or "",
        "Session id": summary["id"] or "",
    }
    table = "".join(
        f"<tr><th>{escape(key)}</th><td>{escape(str(value))}</td></tr>" for key, value in rows.items()
    )
    body = (
        f"<h1>{escape(rows['Name'] or rows['Session id'])}</h1><table>{table}</table>"
        '<p class="note">Served by the local CloudOS simulator, where a real CloudOS shows the '
        f"session. Sessions here are {escape(timings.billing())}.</p>"
    )
    title = f"{rows['Name']} ({status}) - CloudOS simulator"
    settled = status in ("paused", "terminated")
    return HttpResponse(200, _page(title, body, refresh=not settled), content_type=HTML)


def missing_session_page(session_id: str) -> HttpResponse:
    """404: no simulated session has this id."""
    body = (
        f"<h1>No such session</h1><p>The CloudOS simulator has no session {escape(session_id)}.</p>"
        '<p class="note">Sessions live only as long as the simulator runs: a link from an earlier '
        "run points at a session that is gone.</p>"
    )
    return HttpResponse(
        404, _page("No such session - CloudOS simulator", body, refresh=False), content_type=HTML
    )


__all__ = [
    "SESSION_PAGE_ENDPOINT",
    "missing_session_page",
    "session_page",
    "session_page_id",
]
