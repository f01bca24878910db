"""The synchronous CloudOS client, on ``requests``, for hooks and operators.

One pooled :class:`requests.Session` serves every call of a client, so a task that polls a
session reuses one connection instead of opening a new one per poll (the official client built
a fresh session per call). ``requests``/urllib3 retries are switched off: the provider's own
policy (:func:`~airflow_provider_cloudos.client.retry.retry_delay`) decides, and it never repeats
a request that could create a second session.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from types import TracebackType
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from airflow_provider_cloudos.client import endpoints
from airflow_provider_cloudos.client._shared import (
    api_status_filter,
    build_headers,
    check_verify,
    clean_api_key,
    clean_workspace_id,
    client_repr,
    log_retry,
    resolve_workspace_id,
    safe_cause,
)
from airflow_provider_cloudos.client.endpoints import MAX_PAGE_SIZE, ApiRequest
from airflow_provider_cloudos.client.responses import (
    connection_error,
    decode_json,
    decode_json_object,
    extract_items,
    list_page,
    raise_for_status,
    request_error,
    tls_error,
)
from airflow_provider_cloudos.client.retry import RetryPolicy, is_retryable_status, retry_delay
from airflow_provider_cloudos.core.errors import CloudOSValidationError
from airflow_provider_cloudos.core.urls import normalize_base_url

logger = logging.getLogger(__name__)

#: Failures with no HTTP answer that another attempt may cure.
_TRANSPORT_ERRORS: tuple[type[Exception], ...] = (
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError,
)
#: A small pool: one client talks to one host, mostly one request at a time.
_POOL_SIZE = 4


def _check_timeout(timeout: tuple[float, float] | float) -> tuple[float, float] | float:
    values = timeout if isinstance(timeout, tuple) else (timeout,)
    if len(values) not in (1, 2) or not all(
        isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0 for v in values
    ):
        raise CloudOSValidationError(
            "timeout", timeout, "expected seconds > 0, or a (connect, read) pair of them"
        )
    return timeout


def _identity(session: dict[str, Any]) -> str:
    """What makes a listed session the same one on another page."""
    session_id = session.get("_id")
    if isinstance(session_id, str) and session_id:
        return session_id
    return json.dumps(session, sort_keys=True, default=str)


class CloudOSClient:
    """Calls the CloudOS API on behalf of one API key, in a default workspace.

    Every method accepts ``workspace_id`` to address another workspace than the client's.
    Failures raise the typed exceptions of :mod:`airflow_provider_cloudos.core.errors`.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        workspace_id: str | None = None,
        *,
        verify: bool | str = True,
        timeout: tuple[float, float] = (10.0, 60.0),
        retry_policy: RetryPolicy | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        user_agent: str | None = None,
    ) -> None:
        self._base_url = normalize_base_url(base_url)
        self._api_key = clean_api_key(api_key)
        self._workspace_id = clean_workspace_id(workspace_id)
        self._verify = check_verify(verify)
        self._timeout = _check_timeout(timeout)
        self._retry_policy = retry_policy or RetryPolicy()
        self._sleep = sleep
        self._secrets = (self._api_key,)
        self._headers = build_headers(self._api_key, user_agent)
        self._owns_session = session is None
        self._session = session if session is not None else self._new_session()

    @staticmethod
    def _new_session() -> requests.Session:
        session = requests.Session()
        adapter = HTTPAdapter(pool_connections=_POOL_SIZE, pool_maxsize=_POOL_SIZE, max_retries=0)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        return session

    @property
    def base_url(self) -> str:
        return self._base_url

    @property
    def workspace_id(self) -> str | None:
        return self._workspace_id

    @property
    def retry_policy(self) -> RetryPolicy:
        return self._retry_policy

    def __repr__(self) -> str:
        return client_repr(type(self).__name__, self._base_url, self._workspace_id)

    def __enter__(self) -> CloudOSClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Release pooled connections (a session passed in by the caller stays the caller's)."""
        if self._owns_session:
            self._session.close()

    def _workspace(self, workspace_id: str | None) -> str:
        return resolve_workspace_id(workspace_id, self._workspace_id)

    def _send(self, request: ApiRequest, *, max_attempts: int | None = None) -> requests.Response:
        """Send ``request``, retrying as the policy allows; return a 2xx response or raise."""
        policy = (
            self._retry_policy
            if max_attempts is None
            else replace(self._retry_policy, max_attempts=max_attempts)
        )
        secrets = self._secrets
        url = request.url(self._base_url)
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self._session.request(
                    request.method,
                    url,
                    json=request.json,
                    headers=self._headers,
                    timeout=self._timeout,
                    verify=self._verify,
                    # A redirect to another host would carry the apikey header along.
                    allow_redirects=False,
                )
            except requests.exceptions.SSLError as exc:
                raise tls_error(request, exc, secrets=secrets) from safe_cause(exc, secrets)
            except _TRANSPORT_ERRORS as exc:
                delay = retry_delay(
                    policy, attempt, status_code=None, retry_after=None, idempotent=request.idempotent
                )
                if delay is None:
                    raise connection_error(request, exc, attempts=attempt, secrets=secrets) from safe_cause(
                        exc, secrets
                    )
                log_retry(logger, request, type(exc).__name__, delay, attempt, policy.max_attempts)
                self._sleep(delay)
                continue
            except requests.exceptions.RequestException as exc:
                raise request_error(request, exc, secrets=secrets) from safe_cause(exc, secrets)
            if is_retryable_status(response.status_code):
                delay = retry_delay(
                    policy,
                    attempt,
                    status_code=response.status_code,
                    retry_after=response.headers.get("Retry-After"),
                    idempotent=request.idempotent,
                )
                if delay is not None:
                    response.close()
                    log_retry(
                        logger, request, f"HTTP {response.status_code}", delay, attempt, policy.max_attempts
                    )
                    self._sleep(delay)
                    continue
            raise_for_status(
                response.status_code, response.content, request, attempts=attempt, secrets=secrets
            )
            return response

    def _json(self, request: ApiRequest) -> Any:
        return decode_json(self._send(request).content, request, secrets=self._secrets)

    def _json_object(self, request: ApiRequest) -> dict[str, Any]:
        return decode_json_object(self._send(request).content, request, secrets=self._secrets)

    def create_session(self, payload: dict[str, Any], workspace_id: str | None = None) -> dict[str, Any]:
        """Start a session; sent once only (see :mod:`~airflow_provider_cloudos.client.retry`)."""
        request = endpoints.create_session(self._workspace(workspace_id), payload)
        return self._json_object(request)

    def get_session(self, session_id: str, workspace_id: str | None = None) -> dict[str, Any]:
        request = endpoints.get_session(self._workspace(workspace_id), session_id)
        return self._json_object(request)

    def _list_page(
        self,
        page: int,
        limit: int,
        statuses: str | Iterable[str] | None,
        only_owner: bool,
        archived: bool | None,
        workspace_id: str | None,
    ) -> tuple[list[dict[str, Any]], int | None]:
        request = endpoints.list_sessions(
            self._workspace(workspace_id),
            page=page,
            limit=limit,
            statuses=api_status_filter(statuses),
            only_owner=only_owner,
            archived=archived,
        )
        return list_page(self._json(request), request)

    def list_sessions(
        self,
        page: int = 1,
        limit: int = MAX_PAGE_SIZE,
        statuses: str | Iterable[str] | None = None,
        only_owner: bool = False,
        archived: bool | None = False,
        workspace_id: str | None = None,
    ) -> tuple[list[dict[str, Any]], int]:
        """One page of sessions and the total count over all pages.

        ``statuses`` may be display names (``running``, ``paused``) or API names; each display
        name expands to every API spelling of it. When the server gives no count, the total is
        the number of sessions known so far (earlier pages plus this one).
        """
        sessions, total = self._list_page(page, limit, statuses, only_owner, archived, workspace_id)
        if total is None:
            total = (page - 1) * limit + len(sessions)
        return sessions, total

    def iter_sessions(
        self,
        statuses: str | Iterable[str] | None = None,
        only_owner: bool = False,
        archived: bool | None = False,
        workspace_id: str | None = None,
        page_size: int = MAX_PAGE_SIZE,
    ) -> Iterator[dict[str, Any]]:
        """Every matching session, page after page, each once.

        Stops at a short page, at the server's total, or at a page with nothing new (a server
        that ignores ``page`` would otherwise be asked for page after page forever).
        """
        seen: set[str] = set()
        page = 1
        while True:
            sessions, total = self._list_page(page, page_size, statuses, only_owner, archived, workspace_id)
            fresh = 0
            for session in sessions:
                identity = _identity(session)
                if identity in seen:
                    continue
                seen.add(identity)
                fresh += 1
                yield session
            if len(sessions) < page_size or (total is not None and page * page_size >= total):
                return
            if not fresh:
                logger.warning(
                    "CloudOS API list returned page %d with no new sessions; stopping the listing", page
                )
                return
            page += 1

    def abort_session(
        self,
        session_id: str,
        upload_on_close: bool = True,
        force_abort: bool = False,
        workspace_id: str | None = None,
    ) -> None:
        """Pause a session. An already paused one gives :class:`CloudOSStateError` (409).

        The exception's ``server_message`` says "aborted in aborted status"; callers that only
        want the session paused treat it as success.
        """
        request = endpoints.abort_session(
            self._workspace(workspace_id),
            session_id,
            upload_on_close=upload_on_close,
            force_abort=force_abort,
        )
        self._send(request)

    def resume_session(
        self, session_id: str, payload: dict[str, Any], workspace_id: str | None = None
    ) -> dict[str, Any]:
        """Resume a paused session; the session object (empty when the server sends no body)."""
        request = endpoints.resume_session(self._workspace(workspace_id), session_id, payload)
        content = self._send(request).content
        return decode_json_object(content, request, secrets=self._secrets) if content.strip() else {}

    def search_projects(self, name: str, workspace_id: str | None = None) -> list[dict[str, Any]]:
        """Projects whose name contains ``name``; picking the exact match is the caller's job."""
        request = endpoints.search_projects(self._workspace(workspace_id), name)
        return extract_items(self._json(request), "projects", request)

    def list_datasets(self, project_id: str, workspace_id: str | None = None) -> list[dict[str, Any]]:
        request = endpoints.list_datasets(self._workspace(workspace_id), project_id)
        return extract_items(self._json(request), "datasets", request)

    def list_dataset_items(self, dataset_id: str, workspace_id: str | None = None) -> dict[str, Any]:
        """``{"folders": [...], "files": [...]}`` at the top of a dataset."""
        request = endpoints.list_dataset_items(self._workspace(workspace_id), dataset_id)
        return self._json_object(request)

    def list_folder_items(
        self, folder_id: str, folder_type: str, workspace_id: str | None = None
    ) -> dict[str, Any]:
        """``{"folders": [...], "files": [...]}`` of a ``VirtualFolder`` or ``S3Folder``."""
        request = endpoints.list_folder_items(self._workspace(workspace_id), folder_id, folder_type)
        return self._json_object(request)

    def check_access(self, workspace_id: str | None = None) -> int:
        """One cheap authenticated call (a one-item list); the number of sessions in the workspace."""
        _, total = self.list_sessions(limit=1, archived=None, workspace_id=workspace_id)
        return total


__all__ = ["CloudOSClient"]
