"""The simulated REST API: routing, authentication, scoping and one handler per endpoint.

Synchronous and socket-free: it turns an :class:`HttpRequest` into an :class:`HttpResponse`.
Endpoints follow ``cloudos-api.md``. Folder browsing is not documented there; the simulator
models it as the dataset-items shape one level down:

* ``GET /api/v1/folders/virtual/{folderId}/items`` lists a virtual folder,
* ``GET /api/v1/folders/s3/{folderId}/items`` lists an S3 folder,

both answering ``{"folders": [...], "files": [...]}``. Asking for a folder under the other
kind's path is a 404, as is an unknown id.

Checks run in this order: route (unknown path or method → 404 ``Cannot METHOD /path``),
``apikey`` header (401), ``teamId`` (400 when missing, 403 when not the simulator's
workspace), then the endpoint: ids that are not 24 hex characters → 400, unknown ids → 404,
invalid payloads → 400 naming the field, wrong session state → 409.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from airflow_provider_cloudos.core.status import API_TO_DISPLAY
from airflow_provider_cloudos.testing.faults import UNKNOWN_ENDPOINT
from airflow_provider_cloudos.testing.messages import ApiError, HttpRequest, HttpResponse
from airflow_provider_cloudos.testing.seed import (
    S3_FOLDER,
    VIRTUAL_FOLDER,
    Seed,
    SeedDataset,
    SeedFile,
    SeedFolder,
    SeedProject,
)
from airflow_provider_cloudos.testing.state import SessionStore
from airflow_provider_cloudos.testing.validation import (
    is_object_id,
    validate_abort,
    validate_create,
    validate_resume,
)

_log = logging.getLogger(__name__)

DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 100

Handler = Callable[[HttpRequest, tuple[str, ...]], HttpResponse]


@dataclass(frozen=True)
class Route:
    """Which endpoint a request is for; ``handler`` is None for an unknown path."""

    endpoint: str
    handler: Handler | None
    args: tuple[str, ...] = ()


def _refuse_id(kind: str, value: str) -> ApiError:
    return ApiError(400, f"Invalid {kind} id {value!r}: expected 24 hexadecimal characters")


def _flag(request: HttpRequest, name: str) -> bool | None:
    value = request.param(name)
    if value is None:
        return None
    lowered = value.strip().lower()
    if lowered not in ("true", "false"):
        raise ApiError(400, f"{name} must be true or false (got {value!r})")
    return lowered == "true"


def _integer(request: HttpRequest, name: str, default: int, low: int, high: int | None) -> int:
    value = request.param(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        number = low - 1
    if number < low or (high is not None and number > high):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ApiError(400, f"{name} must be an integer {bounds} (got {value!r})")
    return number


def _items(files: tuple[SeedFile, ...], folders: tuple[SeedFolder, ...]) -> HttpResponse:
    return HttpResponse(
        200, {"folders": [folder.as_api() for folder in folders], "files": [item.as_api() for item in files]}
    )


class CloudOSApi:
    """Handlers over one seed and one session store."""

    def __init__(self, seed: Seed, store: SessionStore) -> None:
        self._seed = seed
        self._store = store
        #: A server that ignores the list filters (status, owner, archived) and lists everything.
        self.ignore_list_filters = False
        self._routes: list[tuple[str, re.Pattern[str], str, Handler]] = [
            ("POST", re.compile(r"/api/v1/interactive-sessions/?"), "create", self._create),
            ("GET", re.compile(r"/api/v2/interactive-sessions/([^/]+)/?"), "get", self._get),
            ("GET", re.compile(r"/api/v3/interactive-sessions/?"), "list", self._list),
            ("PUT", re.compile(r"/api/v1/interactive-sessions/([^/]+)/abort/?"), "abort", self._abort),
            ("PUT", re.compile(r"/api/v1/interactive-sessions/([^/]+)/resume/?"), "resume", self._resume),
            ("GET", re.compile(r"/api/v2/projects/?"), "projects", self._projects),
            ("GET", re.compile(r"/api/v2/datasets/?"), "datasets", self._datasets),
            ("GET", re.compile(r"/api/v1/datasets/([^/]+)/items/?"), "dataset_items", self._dataset_items),
            (
                "GET",
                re.compile(r"/api/v1/folders/(virtual|s3)/([^/]+)/items/?"),
                "folder_items",
                self._folder_items,
            ),
        ]

    # ---- dispatch ---------------------------------------------------------------------------

    def route(self, method: str, path: str) -> Route:
        for route_method, pattern, endpoint, handler in self._routes:
            match = pattern.fullmatch(path)
            if match and method == route_method:
                return Route(endpoint, handler, tuple(unquote(group) for group in match.groups()))
        return Route(UNKNOWN_ENDPOINT, None)

    def respond(self, request: HttpRequest, route: Route) -> HttpResponse:
        """Answer a routed request; every refusal becomes ``{"message": ...}``."""
        try:
            if route.handler is None:
                raise ApiError(404, f"Cannot {request.method} {request.path}")
            self._authorise(request)
            return route.handler(request, route.args)
        except ApiError as error:
            return error.to_response()
        except Exception as error:  # a simulator bug must surface as an answer, not a hung client
            _log.exception("simulator error while answering %s %s", request.method, request.path)
            return HttpResponse(500, {"message": f"simulator error: {type(error).__name__}: {error}"})

    def _authorise(self, request: HttpRequest) -> None:
        key = request.headers.get("apikey")
        if not key:
            raise ApiError(401, "Missing API key: send it in the apikey header")
        if not hmac.compare_digest(key.encode(), self._seed.api_key.encode()):
            raise ApiError(401, "Invalid API key")
        team = request.param("teamId")
        if not team:
            raise ApiError(400, "teamId query parameter is required")
        if team != self._seed.workspace_id:
            raise ApiError(403, f"Forbidden: no permission in workspace {team!r}")

    @staticmethod
    def _json(request: HttpRequest) -> Any:
        if not request.body.strip():
            return None
        try:
            return json.loads(request.body)
        except ValueError:
            raise ApiError(400, "request body is not valid JSON") from None

    def _session_id(self, value: str) -> str:
        if not is_object_id(value):
            raise _refuse_id("interactive session", value)
        if not self._store.exists(value):
            raise ApiError(404, f"Interactive session {value} not found")
        return value

    # ---- sessions ---------------------------------------------------------------------------

    def _create(self, request: HttpRequest, args: tuple[str, ...]) -> HttpResponse:
        body = self._json(request)
        accepted = validate_create(body, self._seed)
        return HttpResponse(201, self._store.create(accepted, body))

    def _get(self, request: HttpRequest, args: tuple[str, ...]) -> HttpResponse:
        session_id = self._session_id(args[0])
        try:
            return HttpResponse(200, self._store.get(session_id))
        except KeyError:
            raise ApiError(404, f"Interactive session {session_id} not found") from None

    def _list(self, request: HttpRequest, args: tuple[str, ...]) -> HttpResponse:
        page = _integer(request, "page", 1, 1, None)
        limit = _integer(request, "limit", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
        statuses = request.query.get("status[]", [])
        for status in statuses:
            if status not in API_TO_DISPLAY:
                known = ", ".join(API_TO_DISPLAY)
                raise ApiError(
                    400, f"status filter {status!r} is not a session status; expected one of {known}"
                )
        only_owner, archived = bool(_flag(request, "onlyOwnerSessions")), _flag(request, "archived.status")
        if self.ignore_list_filters:
            statuses, only_owner, archived = [], False, None
        displays = {API_TO_DISPLAY[status] for status in statuses} if statuses else None
        start = (page - 1) * limit
        sessions, total = self._store.list_page(displays, only_owner, archived, slice(start, start + limit))
        return HttpResponse(
            200,
            {
                "sessions": sessions,
                "paginationMetadata": {
                    "Pagination-Count": total,
                    "Pagination-Page": page,
                    "Pagination-Limit": limit,
                },
            },
        )

    def _abort(self, request: HttpRequest, args: tuple[str, ...]) -> HttpResponse:
        session_id = self._session_id(args[0])
        upload_on_close, force_abort = validate_abort(self._json(request))
        self._store.abort(session_id, upload_on_close, force_abort)
        return HttpResponse(204)

    def _resume(self, request: HttpRequest, args: tuple[str, ...]) -> HttpResponse:
        session_id = self._session_id(args[0])
        body = self._json(request)
        self._store.record_resume(session_id, body)
        platform = self._store.check_resumable(session_id)
        accepted = validate_resume(body, platform, self._seed)
        return HttpResponse(200, self._store.resume(session_id, accepted))

    # ---- projects, datasets, folders -----------------------------------------------------

    def _projects(self, request: HttpRequest, args: tuple[str, ...]) -> HttpResponse:
        search = (request.param("search") or "").strip().lower()
        found = [p.as_api() for p in self._seed.projects if search in p.name.lower()]
        return HttpResponse(200, {"projects": found})

    def _datasets(self, request: HttpRequest, args: tuple[str, ...]) -> HttpResponse:
        project_id = request.param("projectId")
        if not project_id:
            raise ApiError(400, "projectId query parameter is required")
        if not is_object_id(project_id):
            raise _refuse_id("project", project_id)
        project = self._seed.by_id(project_id)
        if not isinstance(project, SeedProject):
            raise ApiError(404, f"Project {project_id} not found")
        return HttpResponse(200, {"datasets": [{"_id": d.id, "name": d.name} for d in project.datasets]})

    def _dataset_items(self, request: HttpRequest, args: tuple[str, ...]) -> HttpResponse:
        dataset_id = args[0]
        if not is_object_id(dataset_id):
            raise _refuse_id("dataset", dataset_id)
        dataset = self._seed.by_id(dataset_id)
        if not isinstance(dataset, SeedDataset):
            raise ApiError(404, f"Dataset {dataset_id} not found")
        return _items(dataset.files, dataset.folders)

    def _folder_items(self, request: HttpRequest, args: tuple[str, ...]) -> HttpResponse:
        kind, folder_id = args
        label = "virtual folder" if kind == "virtual" else "S3 folder"
        if not is_object_id(folder_id):
            raise _refuse_id(label, folder_id)
        folder = self._seed.by_id(folder_id)
        wanted_type = VIRTUAL_FOLDER if kind == "virtual" else S3_FOLDER
        if not isinstance(folder, SeedFolder) or folder.folder_type != wanted_type:
            raise ApiError(404, f"{label[0].upper()}{label[1:]} {folder_id} not found")
        return _items(folder.files, folder.folders)


__all__ = ["DEFAULT_PAGE_SIZE", "MAX_PAGE_SIZE", "CloudOSApi", "Route"]
