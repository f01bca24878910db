"""The asynchronous CloudOS client, on ``aiohttp``, for triggers.

A trigger polls from the triggerer's event loop, where a blocking ``requests`` call would stall
every other trigger; this client makes the same calls without blocking. It executes the same
endpoint descriptions and the same retry policy as the synchronous client. Its requests go
through the running loop's shared connection pool (:mod:`~airflow_provider_cloudos.client.loop_pool`),
joined on first use and left on :meth:`AsyncCloudOSClient.close`, so thousands of triggers polling
in one triggerer reuse a few dozen keep-alive connections instead of holding one each.

One difference from ``requests`` is aiohttp's own: when the server drops the connection under a
GET or PUT, aiohttp resends it once, immediately (RFC 9112 9.3.1, meant for kept-alive
connections the server closed meanwhile). The provider's policy applies on top of that; it
never concerns the POST that creates a session.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import ssl
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, replace
from types import TracebackType
from typing import Any

import aiohttp

from airflow_provider_cloudos.client import endpoints, loop_pool
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
    list_page,
    raise_for_status,
    request_error,
    tls_error,
)
from airflow_provider_cloudos.client.retry import RetryPolicy, is_retryable_status, retry_delay
from airflow_provider_cloudos.core.errors import CloudOSValidationError
from airflow_provider_cloudos.core.urls import normalize_base_url

logger = logging.getLogger(__name__)

_TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (
    aiohttp.ClientConnectionError,
    aiohttp.ClientPayloadError,
    asyncio.TimeoutError,
)


def ssl_option(verify: bool | str) -> bool | ssl.SSLContext:
    """aiohttp's ``ssl`` argument for a ``verify`` setting (a CA bundle path becomes a context)."""
    checked = check_verify(verify)
    if isinstance(checked, bool):
        return checked
    return _bundle_context(checked, verify)


@functools.lru_cache(maxsize=16)
def _bundle_context(path: str, verify: bool | str) -> ssl.SSLContext:
    """One context per CA bundle: the context is part of aiohttp's connection key, so clients
    that trust the same bundle share the pool's keep-alive connections."""
    try:
        if os.path.isdir(path):
            return ssl.create_default_context(capath=path)
        return ssl.create_default_context(cafile=path)
    except (ssl.SSLError, OSError) as exc:
        raise CloudOSValidationError("verify", verify, f"not a usable CA bundle: {exc}") from None


@dataclass(frozen=True)
class _Answer:
    status: int
    body: bytes
    retry_after: str | None


class AsyncCloudOSClient:
    """The asynchronous counterpart of :class:`~airflow_provider_cloudos.client.sync.CloudOSClient`.

    Use it as ``async with AsyncCloudOSClient(...) as client:`` or call :meth:`close` (which lets
    the loop's shared pool close once no client uses it). Each method
    takes ``max_attempts`` to override the policy for one call: a trigger that tolerates
    transient errors between polls itself can pass 1.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        workspace_id: str | None = None,
        *,
        verify: bool | str = True,
        timeout: float = 60.0,
        connect_timeout: float = 10.0,
        retry_policy: RetryPolicy | None = None,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        user_agent: str | None = None,
    ) -> None:
        for name, value in (("timeout", timeout), ("connect_timeout", connect_timeout)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise CloudOSValidationError(name, value, "expected a number of seconds greater than 0")
        self._base_url = normalize_base_url(base_url)
        self._api_key = clean_api_key(api_key)
        self._workspace_id = clean_workspace_id(workspace_id)
        self._ssl = ssl_option(verify)
        self._timeout = aiohttp.ClientTimeout(total=timeout, sock_connect=connect_timeout)
        self._retry_policy = retry_policy or RetryPolicy()
        self._sleep = sleep
        self._secrets = (self._api_key,)
        self._headers = build_headers(self._api_key, user_agent)
        self._session: aiohttp.ClientSession | None = None
        self._session_loop: asyncio.AbstractEventLoop | None = None

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

    async def __aenter__(self) -> AsyncCloudOSClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Leave the loop's shared pool (the last client out closes it); a later call joins again."""
        session, self._session = self._session, None
        if session is not None:
            await loop_pool.release(session)

    def _client_session(self) -> aiohttp.ClientSession:
        """The running loop's shared session, joined on first use (a client moved to another loop
        joins that loop's pool)."""
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._session_loop is not loop:
            self._session = loop_pool.acquire()
            self._session_loop = loop
        return self._session

    def _workspace(self, workspace_id: str | None) -> str:
        return resolve_workspace_id(workspace_id, self._workspace_id)

    async def _exchange(self, request: ApiRequest) -> _Answer:
        async with self._client_session().request(
            request.method,
            request.url(self._base_url),
            json=request.json,
            headers=self._headers,
            ssl=self._ssl,
            timeout=self._timeout,
            # A redirect to another host would carry the apikey header along.
            allow_redirects=False,
        ) as response:
            body = await response.read()
            return _Answer(response.status, body, response.headers.get("Retry-After"))

    async def _send(self, request: ApiRequest, *, max_attempts: int | None = None) -> bytes:
        """Send ``request``, retrying as the policy allows; return a 2xx body or raise."""
        policy = (
            self._retry_policy
            if max_attempts is None
            else replace(self._retry_policy, max_attempts=max_attempts)
        )
        secrets = self._secrets
        attempt = 0
        while True:
            attempt += 1
            try:
                answer = await self._exchange(request)
            except aiohttp.ClientSSLError as exc:
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
                await self._sleep(delay)
                continue
            except aiohttp.ClientError as exc:
                raise request_error(request, exc, secrets=secrets) from safe_cause(exc, secrets)
            if is_retryable_status(answer.status):
                delay = retry_delay(
                    policy,
                    attempt,
                    status_code=answer.status,
                    retry_after=answer.retry_after,
                    idempotent=request.idempotent,
                )
                if delay is not None:
                    log_retry(logger, request, f"HTTP {answer.status}", delay, attempt, policy.max_attempts)
                    await self._sleep(delay)
                    continue
            raise_for_status(answer.status, answer.body, request, attempts=attempt, secrets=secrets)
            return answer.body

    async def get_session(
        self, session_id: str, workspace_id: str | None = None, *, max_attempts: int | None = None
    ) -> dict[str, Any]:
        request = endpoints.get_session(self._workspace(workspace_id), session_id)
        return decode_json_object(
            await self._send(request, max_attempts=max_attempts), request, secrets=self._secrets
        )

    async def list_sessions(
        self,
        page: int = 1,
        limit: int = MAX_PAGE_SIZE,
        statuses: str | Iterable[str] | None = None,
        only_owner: bool = False,
        archived: bool | None = False,
        workspace_id: str | None = None,
        *,
        max_attempts: int | None = None,
    ) -> tuple[list[dict[str, Any]], int]:
        """One page of sessions and the total count (see the synchronous client)."""
        request = endpoints.list_sessions(
            self._workspace(workspace_id),
            page=page,
            limit=limit,
            statuses=api_status_filter(statuses),
            only_owner=only_owner,
            archived=archived,
        )
        payload = decode_json(
            await self._send(request, max_attempts=max_attempts), request, secrets=self._secrets
        )
        sessions, total = list_page(payload, request)
        if total is None:
            total = (page - 1) * limit + len(sessions)
        return sessions, total

    async def abort_session(
        self,
        session_id: str,
        upload_on_close: bool = True,
        force_abort: bool = False,
        workspace_id: str | None = None,
        *,
        max_attempts: int | None = None,
    ) -> None:
        """Pause a session; an already paused one gives :class:`CloudOSStateError` (409)."""
        request = endpoints.abort_session(
            self._workspace(workspace_id),
            session_id,
            upload_on_close=upload_on_close,
            force_abort=force_abort,
        )
        await self._send(request, max_attempts=max_attempts)

    async def resume_session(
        self,
        session_id: str,
        payload: dict[str, Any],
        workspace_id: str | None = None,
        *,
        max_attempts: int | None = None,
    ) -> dict[str, Any]:
        request = endpoints.resume_session(self._workspace(workspace_id), session_id, payload)
        body = await self._send(request, max_attempts=max_attempts)
        return decode_json_object(body, request, secrets=self._secrets) if body.strip() else {}


__all__ = ["AsyncCloudOSClient", "ssl_option"]
