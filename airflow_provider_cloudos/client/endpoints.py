"""One description of each CloudOS endpoint the provider calls.

Each function is pure: it turns arguments into an :class:`ApiRequest` (method, path, query,
body and whether a retry is safe) and sends nothing. The synchronous and the asynchronous
transports both execute these descriptions, so a path or a query parameter is written once
and the two cannot drift apart.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from airflow_provider_cloudos.core.errors import CloudOSValidationError
from airflow_provider_cloudos.core.formatters import session_url
from airflow_provider_cloudos.core.spec import require_session_id

SESSIONS_V1 = "/api/v1/interactive-sessions"
SESSIONS_V2 = "/api/v2/interactive-sessions"
SESSIONS_V3 = "/api/v3/interactive-sessions"
MAX_PAGE_SIZE = 100
FOLDER_TYPES: dict[str, str] = {"VirtualFolder": "virtual", "S3Folder": "s3"}


@dataclass(frozen=True)
class ApiRequest:
    """An HTTP call to make, independent of the library that makes it.

    ``idempotent`` says whether sending it twice is harmless; the retry policy repeats a request
    that is not only after a 429 (the server refused it before acting on it).
    """

    name: str
    method: str
    path: str
    params: tuple[tuple[str, str], ...]
    json: dict[str, Any] | None
    idempotent: bool

    def describe(self) -> str:
        """``METHOD /path`` for messages; the query is left out (it adds noise, not meaning)."""
        return f"{self.method} {self.path}"

    def url(self, base_url: str) -> str:
        """The full URL with its query encoded: both transports send it as it is.

        One encoding for both, and none per request in the trigger's hot path: handing aiohttp
        the query to merge cost about a tenth of a poll's CPU (see BENCHMARKS.md).
        """
        query = _encoded_query(self.params)
        return f"{base_url}{self.path}?{query}" if query else f"{base_url}{self.path}"


@functools.lru_cache(maxsize=256)
def _encoded_query(params: tuple[tuple[str, str], ...]) -> str:
    """Encoding is cached: a trigger sends the same query (its workspace) at every poll."""
    return urlencode(params)


def _segment(value: str, parameter: str) -> str:
    """A path segment, refused when blank and quoted so that no value can change the path."""
    if not isinstance(value, str) or not value.strip():
        raise CloudOSValidationError(parameter, value, "a non-empty id is required")
    return quote(value.strip(), safe="")


def _session(session_id: str) -> str:
    """Session ids are checked here so that both transports refuse a bad one before any call."""
    return require_session_id(session_id)


def _team(workspace_id: str) -> tuple[str, str]:
    if not isinstance(workspace_id, str) or not workspace_id.strip():
        raise CloudOSValidationError("workspace_id", workspace_id, "a workspace id (teamId) is required")
    return ("teamId", workspace_id.strip())


def _body(payload: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise CloudOSValidationError("payload", payload, f"expected a dict, got {type(payload).__name__}")
    return payload


def create_session(workspace_id: str, payload: dict[str, Any]) -> ApiRequest:
    """Create a session. Not idempotent: a repeated POST starts (and bills) a second session."""
    return ApiRequest("create", "POST", SESSIONS_V1, (_team(workspace_id),), _body(payload), idempotent=False)


def get_session(workspace_id: str, session_id: str) -> ApiRequest:
    path = f"{SESSIONS_V2}/{_session(session_id)}"
    return ApiRequest("get", "GET", path, (_team(workspace_id),), None, idempotent=True)


def list_sessions(
    workspace_id: str,
    page: int = 1,
    limit: int = MAX_PAGE_SIZE,
    statuses: Iterable[str] | None = None,
    only_owner: bool = False,
    archived: bool | None = False,
) -> ApiRequest:
    """List one page of sessions; ``statuses`` are API names, sent as repeated ``status[]``.

    ``archived=None`` leaves the archive filter out (the server then applies its own default).
    """
    if isinstance(page, bool) or not isinstance(page, int) or page < 1:
        raise CloudOSValidationError("page", page, "a page number is an integer of at least 1")
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE_SIZE:
        raise CloudOSValidationError("limit", limit, f"the page size must be between 1 and {MAX_PAGE_SIZE}")
    if isinstance(statuses, str):
        statuses = [statuses]
    params: list[tuple[str, str]] = [_team(workspace_id), ("page", str(page)), ("limit", str(limit))]
    params.extend(("status[]", status) for status in (statuses or ()))
    if only_owner:
        params.append(("onlyOwnerSessions", "true"))
    if archived is not None:
        params.append(("archived.status", "true" if archived else "false"))
    return ApiRequest("list", "GET", SESSIONS_V3, tuple(params), None, idempotent=True)


def abort_session(
    workspace_id: str, session_id: str, upload_on_close: bool = True, force_abort: bool = False
) -> ApiRequest:
    """Pause a session.

    Idempotent in effect: pausing a paused session is refused with 409 "aborted in aborted
    status", which callers treat as success, so repeating it after a lost response is safe.
    """
    path = f"{SESSIONS_V1}/{_session(session_id)}/abort"
    body = {"uploadOnClose": bool(upload_on_close), "forceAbort": bool(force_abort)}
    return ApiRequest("abort", "PUT", path, (_team(workspace_id),), body, idempotent=True)


def resume_session(workspace_id: str, session_id: str, payload: dict[str, Any]) -> ApiRequest:
    """Resume a paused session.

    Idempotent in effect: a second resume finds the session no longer paused and is refused
    ("not in a resumable status") instead of starting anything new.
    """
    path = f"{SESSIONS_V1}/{_session(session_id)}/resume"
    return ApiRequest("resume", "PUT", path, (_team(workspace_id),), _body(payload), idempotent=True)


def search_projects(workspace_id: str, name: str) -> ApiRequest:
    if not isinstance(name, str) or not name.strip():
        raise CloudOSValidationError("project_name", name, "a project name is required")
    params = (_team(workspace_id), ("search", name.strip()))
    return ApiRequest("projects", "GET", "/api/v2/projects", params, None, idempotent=True)


def list_datasets(workspace_id: str, project_id: str) -> ApiRequest:
    if not isinstance(project_id, str) or not project_id.strip():
        raise CloudOSValidationError("project_id", project_id, "a non-empty id is required")
    params = (_team(workspace_id), ("projectId", project_id.strip()))
    return ApiRequest("datasets", "GET", "/api/v2/datasets", params, None, idempotent=True)


def list_dataset_items(workspace_id: str, dataset_id: str) -> ApiRequest:
    path = f"/api/v1/datasets/{_segment(dataset_id, 'dataset_id')}/items"
    return ApiRequest("dataset_items", "GET", path, (_team(workspace_id),), None, idempotent=True)


def list_folder_items(workspace_id: str, folder_id: str, folder_type: str) -> ApiRequest:
    """List a folder; virtual folders and S3 folders live under different paths."""
    kind = FOLDER_TYPES.get(folder_type) if isinstance(folder_type, str) else None
    if kind is None:
        raise CloudOSValidationError(
            "folder_type", folder_type, f"expected one of {', '.join(sorted(FOLDER_TYPES))}"
        )
    path = f"/api/v1/folders/{kind}/{_segment(folder_id, 'folder_id')}/items"
    return ApiRequest("folder_items", "GET", path, (_team(workspace_id),), None, idempotent=True)


def session_web_url(base_url: str, session_id: str) -> str:
    """The session's page in the CloudOS web UI (see :func:`core.formatters.session_url`)."""
    return session_url(base_url, session_id)


__all__ = [
    "FOLDER_TYPES",
    "MAX_PAGE_SIZE",
    "ApiRequest",
    "abort_session",
    "create_session",
    "get_session",
    "list_dataset_items",
    "list_datasets",
    "list_folder_items",
    "list_sessions",
    "resume_session",
    "search_projects",
    "session_web_url",
]
