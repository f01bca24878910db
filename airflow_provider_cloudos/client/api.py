"""What the CloudOS API is, independent of the library that calls it.

Each endpoint the provider calls, as a pure :class:`ApiRequest` (method, path, query, body and
whether a retry is safe); what its answers mean (status codes to typed exceptions, bodies to
Python values, the refusals that mean "already done"); and :class:`CloudOSResolver`, which turns
the paths users write into payload items through the API's listings. Both transports execute
these descriptions and read answers here, so a path, a query parameter or an error message is
written once and the two cannot drift apart. Messages name the request (``METHOD /path``, never
the query or headers); any text that could echo the API key passes through :func:`redact` first.
"""

from __future__ import annotations

import difflib
import functools
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import quote, urlencode

from airflow_provider_cloudos.core.errors import (
    CloudOSAPIError,
    CloudOSAuthError,
    CloudOSNotFoundError,
    CloudOSPermissionError,
    CloudOSResolutionError,
    CloudOSStateError,
    CloudOSTransientError,
    CloudOSValidationError,
)
from airflow_provider_cloudos.core.formatters import as_mapping
from airflow_provider_cloudos.core.lineage import DataLocation, cloudos_location, s3_location
from airflow_provider_cloudos.core.spec import (
    build_file_item,
    build_project_folder_item,
    build_s3_file_item,
    build_s3_link_item,
    check_duplicate_mount_names,
    describe_path,
    non_blank,
    require_session_id,
)
from airflow_provider_cloudos.core.status import api_statuses_for, normalize_statuses

SESSIONS_V1 = "/api/v1/interactive-sessions"


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


#: Encoding is cached: a trigger sends the same query (its workspace) at every poll.
_encoded_query = functools.lru_cache(maxsize=256)(urlencode)


def _team(workspace_id: str) -> tuple[str, str]:
    return ("teamId", non_blank(workspace_id, "workspace_id", "a workspace id (teamId) is required"))


def _body(payload: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise CloudOSValidationError("payload", payload, f"expected a dict, got {type(payload).__name__}")
    return payload


def create_session(workspace_id: str, payload: dict[str, Any]) -> ApiRequest:
    """Create a session. Not idempotent: a repeated POST starts (and bills) a second session."""
    return ApiRequest("create", "POST", SESSIONS_V1, (_team(workspace_id),), _body(payload), idempotent=False)


def get_session(workspace_id: str, session_id: str) -> ApiRequest:
    path = f"/api/v2/interactive-sessions/{require_session_id(session_id)}"
    return ApiRequest("get", "GET", path, (_team(workspace_id),), None, idempotent=True)


def list_sessions(
    workspace_id: str,
    page: int = 1,
    limit: int = MAX_PAGE_SIZE,
    statuses: str | Iterable[str] | None = None,
    only_owner: bool = False,
    archived: bool | None = False,
) -> ApiRequest:
    """List one page of sessions; ``statuses`` (display or API names, each display name expanded
    to every API spelling of it; none: no filter) are sent as repeated ``status[]``.

    ``archived=None`` leaves the archive filter out (the server then applies its own default).
    """
    if statuses is not None and not isinstance(statuses, str):
        statuses = list(statuses)
    names = api_statuses_for(normalize_statuses(statuses, "statuses")) if statuses else ()
    if isinstance(page, bool) or not isinstance(page, int) or page < 1:
        raise CloudOSValidationError("page", page, "a page number is an integer of at least 1")
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE_SIZE:
        raise CloudOSValidationError("limit", limit, f"the page size must be between 1 and {MAX_PAGE_SIZE}")
    params: list[tuple[str, str]] = [_team(workspace_id), ("page", str(page)), ("limit", str(limit))]
    params.extend(("status[]", status) for status in names)
    if only_owner:
        params.append(("onlyOwnerSessions", "true"))
    if archived is not None:
        params.append(("archived.status", "true" if archived else "false"))
    return ApiRequest("list", "GET", "/api/v3/interactive-sessions", tuple(params), None, idempotent=True)


def abort_session(
    workspace_id: str, session_id: str, upload_on_close: bool = True, force_abort: bool = False
) -> ApiRequest:
    """Pause a session.

    Idempotent in effect: pausing a paused session is refused with 409 "aborted in aborted
    status", which callers treat as success, so repeating it after a lost response is safe.
    """
    path = f"{SESSIONS_V1}/{require_session_id(session_id)}/abort"
    body = {"uploadOnClose": bool(upload_on_close), "forceAbort": bool(force_abort)}
    return ApiRequest("abort", "PUT", path, (_team(workspace_id),), body, idempotent=True)


def resume_session(workspace_id: str, session_id: str, payload: dict[str, Any]) -> ApiRequest:
    """Resume a paused session.

    Idempotent in effect: a second resume finds the session no longer paused and is refused
    ("not in a resumable status") instead of starting anything new.
    """
    path = f"{SESSIONS_V1}/{require_session_id(session_id)}/resume"
    return ApiRequest("resume", "PUT", path, (_team(workspace_id),), _body(payload), idempotent=True)


def search_projects(workspace_id: str, name: str) -> ApiRequest:
    params = (_team(workspace_id), ("search", non_blank(name, "project_name", "a project name is required")))
    return ApiRequest("projects", "GET", "/api/v2/projects", params, None, idempotent=True)


def list_datasets(workspace_id: str, project_id: str) -> ApiRequest:
    params = (_team(workspace_id), ("projectId", non_blank(project_id, "project_id")))
    return ApiRequest("datasets", "GET", "/api/v2/datasets", params, None, idempotent=True)


def list_dataset_items(workspace_id: str, dataset_id: str) -> ApiRequest:
    dataset = quote(non_blank(dataset_id, "dataset_id"), safe="")
    path = f"/api/v1/datasets/{dataset}/items"
    return ApiRequest("dataset_items", "GET", path, (_team(workspace_id),), None, idempotent=True)


def list_folder_items(workspace_id: str, folder_id: str, folder_type: str) -> ApiRequest:
    """List a folder; virtual folders and S3 folders live under different paths."""
    kind = FOLDER_TYPES.get(folder_type) if isinstance(folder_type, str) else None
    if kind is None:
        problem = f"expected one of {', '.join(sorted(FOLDER_TYPES))}"
        raise CloudOSValidationError("folder_type", folder_type, problem)
    folder = quote(non_blank(folder_id, "folder_id"), safe="")
    path = f"/api/v1/folders/{kind}/{folder}/items"
    return ApiRequest("folder_items", "GET", path, (_team(workspace_id),), None, idempotent=True)


def is_retryable_status(code: int | None) -> bool:
    """True for 429 and the 5xx statuses that signal a passing problem; None is a lost connection."""
    return code is None or code in (429, 500, 502, 503, 504)


_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s'\"]+@")


def redact_credentials(text: str) -> str:
    """``text`` with the ``user:password@`` part of every URL in it replaced by ``***@``."""
    return _USERINFO.sub(r"\g<scheme>***@", text)


_MAX_SERVER_MESSAGE = 500


_NOT_RETRIED = (
    "Not retried, because repeating it could start a second session; it may have been "
    "created anyway, and a re-run looks for it before creating another"
)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every non-empty secret, and the credentials of any URL, replaced by ``***``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return redact_credentials(text)


def _text(body: bytes | str | None) -> str:
    return body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body or ""


def server_message(body: bytes | str | None) -> str | None:
    """The server's explanation: ``message`` (or ``error``) of a JSON body, else short plain text.

    HTML pages (from proxies and load balancers) are ignored: they explain nothing a user can
    act on and would drown the message.
    """
    text = _text(body).strip()
    if not text:
        return None
    try:
        parsed = json.loads(text)
    except ValueError:
        return None if text.startswith("<") or len(text) > _MAX_SERVER_MESSAGE else text
    for key in ("message", "error", "detail"):
        value = as_mapping(parsed).get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()[:_MAX_SERVER_MESSAGE]
    return None


def _refusal(status_code: int, request: ApiRequest) -> tuple[type[CloudOSAPIError], str]:
    """The exception class for a refusal, and what to check."""
    workspace = next((value for key, value in request.params if key == "teamId"), "?")
    if status_code == 401:
        return CloudOSAuthError, "check the API key in the Airflow connection"
    if status_code == 403:
        return CloudOSPermissionError, (
            f"the API key has no permission in workspace {workspace}; "
            "check the workspace id and the key's access to it"
        )
    if status_code == 404:
        what = "session" if request.name in ("get", "abort", "resume") else "resource"
        hint = f"no such {what} in workspace {workspace}; check the id and the workspace"
        return CloudOSNotFoundError, hint
    if status_code in (400, 409):
        if request.name == "create":
            return CloudOSStateError, "the server refused the session configuration"
        return CloudOSStateError, "the action does not fit the current state of the session"
    if 300 <= status_code < 400:
        hint = "the server redirected the request; check the CloudOS URL (scheme and host) in the connection"
        return CloudOSAPIError, hint
    if status_code == 429:
        return CloudOSTransientError, "CloudOS is limiting the rate of requests; try again later"
    if is_retryable_status(status_code):
        if not request.idempotent:
            return CloudOSTransientError, _NOT_RETRIED[0].lower() + _NOT_RETRIED[1:]
        return CloudOSTransientError, "the service is busy or failing; try again later"
    return CloudOSAPIError, "unexpected answer from the server"


def _phrase(status_code: int) -> str:
    try:
        return f"{status_code} {HTTPStatus(status_code).phrase}"
    except ValueError:
        return str(status_code)


def _attempts(attempts: int) -> str:
    return f" after {attempts} attempts" if attempts > 1 else ""


def raise_for_status(
    status_code: int,
    body: bytes | str | None,
    request: ApiRequest,
    *,
    attempts: int = 1,
    secrets: Iterable[str] = (),
) -> None:
    """Return quietly for 2xx; raise the matching :class:`CloudOSAPIError` subclass otherwise."""
    if 200 <= status_code < 300:
        return
    said = server_message(body)
    error_class, hint = _refusal(status_code, request)
    message = (
        f"CloudOS API refused {request.describe()} ({_phrase(status_code)}){_attempts(attempts)}: {hint}"
    )
    if said:
        message += f". Server said: {said}"
    secrets = tuple(secrets)
    raise error_class(
        redact(message, secrets),
        status_code=status_code,
        endpoint=request.name,
        server_message=redact(said, secrets) if said else None,
    )


def _unusable(request: ApiRequest, what: str, secrets: Iterable[str] = ()) -> CloudOSAPIError:
    """The error for a 2xx answer the provider cannot use: ``what`` it was instead."""
    message = f"CloudOS API answered {request.describe()} {what}"
    return CloudOSAPIError(redact(message, secrets), endpoint=request.name)


def decode_json(body: bytes | str | None, request: ApiRequest, *, secrets: Iterable[str] = ()) -> Any:
    """Parse a JSON body, or raise a :class:`CloudOSAPIError` saying the answer was not JSON.

    A non-JSON 200 usually means the URL points at a web page rather than the API.
    """
    text = _text(body)
    if not text.strip():
        raise _unusable(request, "with an empty body where JSON was expected")
    try:
        return json.loads(text)
    except ValueError:
        snippet = text.strip()[:120]
        what = f"with a body that is not JSON ({snippet!r}); check that the CloudOS URL points at the API"
        raise _unusable(request, what, secrets) from None


def extract_items(payload: Any, key: str, request: ApiRequest) -> list[dict[str, Any]]:
    """The list under ``key`` (``sessions``, ``projects``, ``datasets``); a bare list is accepted.

    Entries that are not objects are dropped: one odd entry must not hide the others.
    """
    items = payload.get(key) if isinstance(payload, dict) else payload
    if items is None and isinstance(payload, dict):
        items = []
    if not isinstance(items, list):
        raise _unusable(request, f"without a {key!r} list")
    return [item for item in items if isinstance(item, dict)]


def extract_total(payload: Any) -> int | None:
    """``paginationMetadata["Pagination-Count"]`` of a list answer, or None when absent or odd."""
    count = as_mapping(as_mapping(payload).get("paginationMetadata")).get("Pagination-Count")
    try:
        total = int(count)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return total if total >= 0 and not isinstance(count, bool) else None


def _said(error: CloudOSAPIError) -> str:
    return (error.server_message or str(error)).lower()


def is_already_paused_refusal(error: BaseException) -> bool:
    """True for the refusal of a pause on a session that is paused or being paused."""
    refusals = ("aborted status", "aborting status")
    return isinstance(error, CloudOSStateError) and any(refusal in _said(error) for refusal in refusals)


def is_not_resumable_refusal(error: BaseException) -> bool:
    """True for the refusal of a resume on a session that is not paused."""
    return isinstance(error, CloudOSStateError) and "not in a resumable status" in _said(error)


VIRTUAL_FOLDER = "VirtualFolder"


S3_FOLDER = "S3Folder"


S3_FILE = "S3File"


def _entries(listing: Any) -> list[dict[str, Any]]:
    return [entry for entry in listing if isinstance(entry, dict)] if isinstance(listing, list) else []


def _named(listing: Any, name: str) -> dict[str, Any] | None:
    return next((entry for entry in _entries(listing) if entry.get("name") == name), None)


def _names(listing: Any) -> list[str]:
    return [str(entry.get("name")) for entry in _entries(listing) if entry.get("name")]


def _segments(path: str) -> list[str]:
    return [segment.strip() for segment in path.split("/") if segment.strip()]


def _close_names(name: str, listing: Any, most: int) -> list[str]:
    """The names of ``listing`` that resemble ``name``: the same letters in another case, then
    up to ``most`` close spellings."""
    names = _names(listing)
    close = [candidate for candidate in names if candidate.lower() == name.lower()]
    return close + [c for c in difflib.get_close_matches(name, names, n=most, cutoff=0.6) if c not in close]


def _did_you_mean(close: list[str], otherwise: str) -> str:
    return f"; did you mean {', '.join(repr(c) for c in close)}?" if close else otherwise


@dataclass
class _Found:
    """What a path led to: a ``file``, a ``folder`` or a ``dataset`` entry of a listing.

    ``path`` is where it is, from its dataset down (``Data/reads/a.fastq``) however the user
    wrote it: lineage names a file by that one path.
    """

    kind: str
    entry: dict[str, Any]
    path: list[str]


class CloudOSResolver:
    """Resolves parsed mount and link paths against one workspace, caching every listing."""

    def __init__(self, client: Any) -> None:
        """``client`` answers the listing calls (``search_projects``,
        ``list_datasets``, ``list_dataset_items``, ``list_folder_items``) with the API's JSON."""
        #: What the client's listing ``call`` answered for ``args``: each is read once.
        self._listed = functools.cache(lambda call, *args: getattr(client, call)(*args))

    # --- cached listings -------------------------------------------------------------------------

    def _search(self, name: str) -> list[dict[str, Any]]:
        return _entries(self._listed("search_projects", name))

    def _list_datasets(self, project_id: str) -> list[dict[str, Any]]:
        return _entries(self._listed("list_datasets", project_id))

    def _list_dataset(self, dataset: dict[str, Any]) -> Mapping[str, Any]:
        return as_mapping(self._listed("list_dataset_items", str(dataset.get("_id", ""))))

    def _list_folder(self, folder: dict[str, Any]) -> Mapping[str, Any]:
        # A folder without a type is taken to be virtual: that is what dataset folders are.
        kind = str(folder.get("folderType") or VIRTUAL_FOLDER)
        return as_mapping(self._listed("list_folder_items", str(folder.get("_id", "")), kind))

    # --- projects ---------------------------------------------------------------------------------

    def resolve_project_id(self, project_name: str) -> str:
        """The id of the project named exactly ``project_name`` (the search matches substrings)."""
        name = non_blank(project_name, "project_name", "a project name is required")
        results = self._search(name)
        ids = sorted({str(item["_id"]) for item in results if item.get("name") == name and item.get("_id")})
        if len(ids) == 1:
            return ids[0]
        if len(ids) > 1:
            raise CloudOSResolutionError(
                f"Project name {name!r} is ambiguous: {len(ids)} projects have it ({', '.join(ids)})"
            )
        hint = _did_you_mean(_close_names(name, results, 5), "; no project has a similar name")
        raise CloudOSResolutionError(f"Project {name!r} was not found in the workspace{hint}")

    # --- walking a project --------------------------------------------------------------------------

    def _walk(self, listing: Mapping[str, Any], segments: list[str], want: str) -> _Found | None:
        """Follow ``segments`` down from a listing; the last one may be a file or a folder."""
        for segment in segments[:-1]:
            folder = _named(listing.get("folders"), segment)
            if folder is None:
                return None
            listing = self._list_folder(folder)
        order = [(kind, _named(listing.get(f"{kind}s"), segments[-1])) for kind in ("file", "folder")]
        for kind, entry in order if want == "file" else reversed(order):
            if entry is not None:
                return _Found(kind, entry, list(segments))
        return None

    def _locate(self, project_id: str, segments: list[str], want: str) -> _Found | None:
        """The entry ``segments`` lead to, preferring the wanted kind; None when nothing matches."""
        datasets = self._list_datasets(project_id)
        # Inside the dataset the path starts with first, then from the top of every dataset.
        starts = [(dataset, segments, str(dataset.get("name", ""))) for dataset in datasets]
        fallback: _Found | None = None
        first = _named(datasets, segments[0])
        if first is not None and len(segments) == 1:
            fallback = _Found("dataset", first, [segments[0]])
        elif first is not None:
            starts.insert(0, (first, segments[1:], segments[0]))
        for dataset, rest, name in starts:
            found = self._walk(self._list_dataset(dataset), rest, want)
            if found is not None:
                found.path = [name, *found.path]  # from its dataset down
                if found.kind == want:
                    return found
            fallback = fallback or found
        return fallback

    def _find(self, parsed: dict[str, Any], action: str) -> tuple[str, str, list[str], _Found]:
        """The project, the path as written, its segments and what they lead to (to ``mount``: a
        file preferably; to ``link``: a folder), refused when the path leads nowhere."""
        path_key, parameter, want, needs = (
            ("dataset_path", "mounts", "file", "a CloudOS file needs a project and a path inside it")
            if action == "mount"
            else ("folder_path", "links", "folder", "a CloudOS folder needs a project and a folder path")
        )
        project = str(parsed.get("project_name") or "").strip()
        path = str(parsed.get(path_key) or "")
        shown = f"{project}/{path}"
        segments = _segments(path)
        if not project or not segments:
            raise CloudOSValidationError(parameter, shown, needs)
        project_id = self.resolve_project_id(project)
        found = self._locate(project_id, segments, want)
        if found is None:
            guess = _did_you_mean(self._close_paths(project, project_id, segments), ".")
            datasets = _names(self._list_datasets(project_id))
            listed = ", ".join(repr(name) for name in datasets) if datasets else "none"
            raise CloudOSResolutionError(
                f"Cannot {action} {shown!r}: no {want} at that path in project {project!r}{guess} "
                f"A path starts at a dataset or at a folder inside one; the project's datasets are: {listed}"
            )
        return project, shown, segments, found

    def _close_paths(self, project: str, project_id: str, segments: list[str]) -> list[str]:
        """Paths one name away from ``segments``: down the names that exist, then close names.

        Walks from the project's datasets; at the first segment nothing is named after, the
        names at that level that resemble it (same letters in another case, or close spellings)
        replace it. Uses the listings the failed lookup already fetched.
        """
        entries: list[dict[str, Any]] = self._list_datasets(project_id)
        listing: Mapping[str, Any] = {}
        for position, segment in enumerate(segments):
            found = _named(entries, segment)
            if found is None:
                return [
                    "/".join([project, *segments[:position], name, *segments[position + 1 :]])
                    for name in _close_names(segment, entries, 3)
                ]
            if position == 0:
                listing = self._list_dataset(found)
            elif any(entry is found for entry in _entries(listing.get("folders"))):
                listing = self._list_folder(found)
            else:
                return []  # a file in the middle of the path: nothing to descend into
            entries = [*_entries(listing.get("folders")), *_entries(listing.get("files"))]
        return []

    # --- the public resolution ------------------------------------------------------------------------

    def locate_data_file(self, parsed: dict[str, Any]) -> tuple[dict[str, Any], DataLocation]:
        """The ``dataItems`` entry for a parsed file to mount (see ``parse_data_file``), and where the
        file lives (for lineage).

        S3 files become ``S3File`` items (refusing them on Azure is the caller's job, done by the
        spec); CloudOS files are looked up and become ``{"kind": "File", "item", "name"}``.
        """
        if parsed.get("type") == "s3":
            return build_s3_file_item(parsed), s3_location(parsed["s3_bucket"], parsed["s3_prefix"])
        if parsed.get("type") != "cloudos":
            raise CloudOSValidationError("mounts", parsed, "expected a path parsed by parse_data_file")
        project, shown, _, found = self._find(parsed, "mount")
        if found.kind != "file":
            raise CloudOSResolutionError(
                f"Cannot mount {shown!r}: it is a {found.kind}, and only files can be mounted; "
                "link folders with links"
            )
        item = build_file_item(str(found.entry.get("_id", "")), str(found.entry.get("name", "")))
        return item, cloudos_location(project, "/".join(found.path))

    def locate_link(self, parsed: dict[str, Any]) -> tuple[dict[str, Any], DataLocation]:
        """The ``fuseFileSystems`` entry for a parsed link (see ``parse_link_path``), and where the
        folder lives (for lineage).

        S3 and legacy links need no lookup. A CloudOS folder must exist, be backed by S3 (not a
        virtual folder) and hold something: CloudOS cannot link an empty or virtual folder.
        """
        if parsed.get("type") == "s3":
            return build_s3_link_item(parsed), s3_location(parsed["s3_bucket"], parsed["s3_prefix"])
        if parsed.get("type") != "cloudos":
            raise CloudOSValidationError("links", parsed, "expected a path parsed by parse_link_path")
        project, shown, segments, found = self._find(parsed, "link")
        if found.kind == "file":
            raise CloudOSResolutionError(
                f"Cannot link {shown!r}: it is a file; links take folders, mount files with mounts"
            )
        if found.kind == "dataset" or found.entry.get("folderType", VIRTUAL_FOLDER) == VIRTUAL_FOLDER:
            what = "a dataset" if found.kind == "dataset" else "a virtual folder"
            raise CloudOSResolutionError(
                f"Cannot link {shown!r}: it is {what}; only folders backed by S3 can be linked "
                "(mount its files with mounts instead)"
            )
        contents = self._list_folder(found.entry)
        if not _entries(contents.get("folders")) and not _entries(contents.get("files")):
            raise CloudOSResolutionError(
                f"Cannot link {shown!r}: the folder is empty, and CloudOS cannot link an empty folder"
            )
        item = build_project_folder_item(project, "/".join(segments))
        return item, cloudos_location(project, "/".join(found.path))

    def locate_session_link(self, item: Mapping[str, Any]) -> DataLocation | None:
        """Where a folder (or file) a session reports linking lives: an item of its ``fuseFileSystems``.

        CloudOS records a linked project folder like an S3 folder whose bucket is the project's
        name, so a bucket that names a project of the workspace is taken as that project's folder
        (found again from its dataset down, as lineage names it); any other is an S3 bucket.
        None for an item of no known shape.
        """
        data = as_mapping(item.get("data"))
        bucket = data.get("s3BucketName")
        key = data.get("s3Prefix", data.get("s3ObjectKey"))
        if item.get("type") not in (S3_FOLDER, S3_FILE) or not isinstance(bucket, str) or not bucket:
            return None
        key = key if isinstance(key, str) else ""
        if item.get("type") == S3_FOLDER and _named(self._search(bucket), bucket) is not None:
            try:
                return self.locate_link({"type": "cloudos", "project_name": bucket, "folder_path": key})[1]
            except CloudOSResolutionError:  # moved or emptied since: name it as CloudOS recorded it
                return cloudos_location(bucket, key.strip("/"))
        return s3_location(bucket, key)

    def locate_mounts(
        self, parsed_list: Iterable[dict[str, Any]]
    ) -> list[tuple[dict[str, Any], DataLocation]]:
        """Every file to mount, in order, each with where it lives; two files mounted under one name
        are refused."""
        return _distinct([(parsed, self.locate_data_file(parsed)) for parsed in parsed_list], "mounts")

    def locate_links(
        self, parsed_list: Iterable[dict[str, Any]]
    ) -> list[tuple[dict[str, Any], DataLocation]]:
        """Every folder to link, in order, each with where it lives; two links under one mount name
        are refused."""
        return _distinct([(parsed, self.locate_link(parsed)) for parsed in parsed_list], "links")


def _distinct(
    located: list[tuple[dict[str, Any], tuple[dict[str, Any], DataLocation]]], parameter: str
) -> list[tuple[dict[str, Any], DataLocation]]:
    """The located items in order, once no two of them are mounted under one name."""
    check_duplicate_mount_names(
        ((describe_path(parsed), item) for parsed, (item, _) in located), parameter=parameter
    )
    return [pair for _, pair in located]
