"""What a client is, whichever way it sends: the part the blocking and async clients share.

Where requests go (URL, proxy route), with which key and headers, for which default workspace,
under which retry policy, and how one call's attempts are driven. The transports add only how
an attempt is sent and how a retry waits, so the two cannot disagree on anything else.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

from airflow_provider_cloudos.client import endpoints
from airflow_provider_cloudos.client._shared import (
    api_status_filter,
    build_headers,
    check_max_bytes,
    clean_api_key,
    clean_workspace_id,
    client_repr,
    resolve_workspace_id,
)
from airflow_provider_cloudos.client.attempts import Attempts
from airflow_provider_cloudos.client.endpoints import ApiRequest
from airflow_provider_cloudos.client.network import choose_route
from airflow_provider_cloudos.client.responses import decode_json, decode_json_object, list_page
from airflow_provider_cloudos.client.retry import RetryPolicy
from airflow_provider_cloudos.core.formatters import normalize_base_url


class ClientBase:
    """The settings and helpers both transports share; not used on its own.

    ``attempt_seconds`` is the total time one attempt may take, however the transport keeps it.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        workspace_id: str | None,
        attempt_seconds: float,
        max_response_bytes: int,
        proxy: str | None,
        no_proxy: str | None,
        retry_policy: RetryPolicy | None,
        clock: Callable[[], float],
        user_agent: str | None,
    ) -> None:
        self._attempt_seconds = attempt_seconds
        self._base_url = normalize_base_url(base_url)
        self._api_key = clean_api_key(api_key)
        self._workspace_id = clean_workspace_id(workspace_id)
        self._max_bytes = check_max_bytes(max_response_bytes)
        self._route = choose_route(self._base_url, proxy, no_proxy)
        self._retry_policy = retry_policy or RetryPolicy()
        self._clock = clock
        self._secrets = (self._api_key, *self._route.secrets())
        self._headers = build_headers(self._api_key, user_agent)

    @property
    def base_url(self) -> str:
        return self._base_url

    @property
    def workspace_id(self) -> str | None:
        return self._workspace_id

    @property
    def retry_policy(self) -> RetryPolicy:
        return self._retry_policy

    @property
    def proxy(self) -> str | None:
        """The proxy the client sends through, credentials included (never log it as is)."""
        return self._route.proxy

    def __repr__(self) -> str:
        return client_repr(type(self).__name__, self._base_url, self._workspace_id, self._route.proxy)

    def _workspace(self, workspace_id: str | None) -> str:
        return resolve_workspace_id(workspace_id, self._workspace_id)

    def _attempts(self, request: ApiRequest, max_attempts: int | None, logger: logging.Logger) -> Attempts:
        """The attempts of one call, under the client's policy or ``max_attempts`` for this call."""
        policy = self._retry_policy
        if max_attempts is not None:
            policy = replace(policy, max_attempts=max_attempts)
        return Attempts(
            request,
            policy,
            attempt_seconds=self._attempt_seconds,
            secrets=self._secrets,
            clock=self._clock,
            logger=logger,
            base_url=self._base_url,
        )

    def _list_request(
        self,
        page: int,
        limit: int,
        statuses: str | Iterable[str] | None,
        only_owner: bool,
        archived: bool | None,
        workspace_id: str | None,
    ) -> ApiRequest:
        return endpoints.list_sessions(
            self._workspace(workspace_id),
            page=page,
            limit=limit,
            statuses=api_status_filter(statuses),
            only_owner=only_owner,
            archived=archived,
        )

    def _object(self, body: bytes, request: ApiRequest, *, empty: bool = False) -> dict[str, Any]:
        """The JSON object of a 2xx answer; ``{}`` for an empty one where ``empty`` allows it."""
        if empty and not body.strip():
            return {}
        return decode_json_object(body, request, secrets=self._secrets)

    def _listed(self, body: bytes, request: ApiRequest) -> tuple[list[dict[str, Any]], int | None]:
        """The sessions of one listed page and the server's total (None when it gives none)."""
        return list_page(decode_json(body, request, secrets=self._secrets), request)

    def _page(
        self, body: bytes, request: ApiRequest, page: int, limit: int
    ) -> tuple[list[dict[str, Any]], int]:
        """The sessions of one listed page and the server's count of all matching sessions, or,
        when it gives none, the number known so far (earlier pages plus this one)."""
        sessions, total = self._listed(body, request)
        return sessions, ((page - 1) * limit + len(sessions) if total is None else total)


__all__ = ["ClientBase"]
