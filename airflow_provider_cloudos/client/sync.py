"""The synchronous CloudOS client, on ``requests``, for hooks and operators.

One pooled :class:`requests.Session` serves every call of a client, so a task that polls a
session reuses one connection instead of opening a new one per poll (the official client built
a fresh session per call). ``requests``/urllib3 retries are switched off: the provider's own
policy (:func:`~airflow_provider_cloudos.client.transport.retry_delay`) decides, and it never repeats
a request that could have created a second session.

``requests`` has connect and read timeouts but no total one: a server that drips its answer a
byte at a time never trips a read timeout. So the answer's body is streamed and read in chunks
against the attempt's total time (and its size cap), with the socket's timeout shortened before
each read to what is left; its status line and headers, which ``http.client`` reads line by line
out of reach, are read with a timer that shuts the socket down when the attempt's time is up.
The session does not read the environment (``trust_env`` is off): proxies and CA bundles come
from :mod:`~airflow_provider_cloudos.client.transport`, the rule the async client follows too.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import json
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from typing import Any

import requests
import urllib3.exceptions
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from airflow_provider_cloudos.client import api
from airflow_provider_cloudos.client.api import MAX_PAGE_SIZE, ApiRequest, decode_json, extract_items
from airflow_provider_cloudos.client.transport import (
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_REQUEST_TIMEOUT,
    READ_CHUNK_BYTES,
    Answer,
    AttemptTimeout,
    ClientBase,
    Reader,
    RetryPolicy,
    TransportErrors,
    check_seconds,
    check_verify,
    run_blocking,
    verify_from_environment,
)
from airflow_provider_cloudos.core.errors import CloudOSValidationError

logger = logging.getLogger(__name__)

#: What ``requests``' exceptions mean to the retry loop. The urllib3 ones come from reading the
#: streamed answer, which ``requests`` does not wrap.
_ERRORS = TransportErrors(
    tls=(requests.exceptions.SSLError,),
    passing=(
        requests.exceptions.ConnectionError,
        requests.exceptions.Timeout,
        requests.exceptions.ChunkedEncodingError,
        urllib3.exceptions.HTTPError,
        AttemptTimeout,
    ),
    timeouts=(requests.exceptions.Timeout, urllib3.exceptions.TimeoutError, TimeoutError),
    unsendable=(requests.exceptions.RequestException,),
)


#: When the attempt under way in this thread must end (monotonic seconds), for the connection
#: that reads its answer's head.
_ATTEMPT_ENDS: ContextVar[float | None] = ContextVar("cloudos_attempt_ends", default=None)


def _cut(sock: socket.socket) -> None:
    """End a read of an answer's head that outlived its attempt (the reading thread sees EOF)."""
    # The plain socket's shutdown, also under TLS: the SSL object stays for the reader. An
    # OSError means it is closed already: nothing left to end.
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


class _HeadDeadline:
    """A urllib3 connection that reads the status line and headers within the attempt's time."""

    sock: socket.socket | None

    def getresponse(self, *args: Any, **kwargs: Any) -> Any:
        ends = _ATTEMPT_ENDS.get()
        if ends is None or self.sock is None:
            return super().getresponse(*args, **kwargs)  # type: ignore[misc]
        timer = threading.Timer(max(0.0, ends - time.monotonic()), _cut, (self.sock,))
        timer.daemon = True
        timer.start()
        try:
            return super().getresponse(*args, **kwargs)  # type: ignore[misc]
        finally:
            timer.cancel()


class _HeadDeadlineHTTP(_HeadDeadline, HTTPConnection):
    pass


class _HeadDeadlineHTTPS(_HeadDeadline, HTTPSConnection):
    pass


#: urllib3's pools, by scheme, with those connections.
_POOL_CLASSES = {
    "http": type("_HTTPPool", (HTTPConnectionPool,), {"ConnectionCls": _HeadDeadlineHTTP}),
    "https": type("_HTTPSPool", (HTTPSConnectionPool,), {"ConnectionCls": _HeadDeadlineHTTPS}),
}


class _Adapter(HTTPAdapter):
    """``requests``' adapter with connections that keep an attempt's deadline over the headers."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOL_CLASSES

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        manager.pool_classes_by_scheme = _POOL_CLASSES
        return manager


def _check_timeout(timeout: tuple[float, float] | float) -> tuple[float, float]:
    """``(connect, read)`` seconds, from one number for both or a pair; refused by name otherwise."""
    values = timeout if isinstance(timeout, tuple) else (timeout,)
    usable = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0]
    if len(usable) != len(values) or len(values) not in (1, 2):
        problem = "expected seconds > 0, or a (connect, read) pair of them"
        raise CloudOSValidationError("timeout", timeout, problem)
    return values[0], values[-1]


def _identity(session: dict[str, Any]) -> str:
    """What makes a listed session the same one on another page."""
    session_id = session.get("_id")
    if isinstance(session_id, str) and session_id:
        return session_id
    return json.dumps(session, sort_keys=True, default=str)


class CloudOSClient(ClientBase):
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
        total_timeout: float = DEFAULT_REQUEST_TIMEOUT,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        proxy: str | None = None,
        no_proxy: str | None = None,
        retry_policy: RetryPolicy | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        user_agent: str | None = None,
    ) -> None:
        self._verify = check_verify(verify_from_environment(verify))
        self._timeout = _check_timeout(timeout)
        attempt_seconds = check_seconds(total_timeout, "total_timeout")
        super().__init__(
            base_url, api_key, workspace_id, attempt_seconds, max_response_bytes,
            proxy, no_proxy, retry_policy, clock, user_agent, sleep,
        )  # fmt: skip
        self._proxies = {"http": self._route.proxy, "https": self._route.proxy} if self._route.proxy else {}
        self._owns_session = session is None
        if session is None:
            session = requests.Session()
            # Proxies and CA bundles are chosen by the provider's rule (client.transport), the same
            # for both transports; the environment is read there, not again by requests.
            session.trust_env = False
            # A small pool: one client talks to one host, mostly one request at a time.
            adapter = _Adapter(pool_connections=4, pool_maxsize=4, max_retries=0)
            session.mount("https://", adapter)
            session.mount("http://", adapter)
        self._session = session

    def __enter__(self) -> CloudOSClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Release pooled connections (a session passed in by the caller stays the caller's)."""
        if self._owns_session:
            self._session.close()

    def _exchange(self, request: ApiRequest, url: str, seconds: float) -> Answer:
        """One attempt: connect, send, and read the whole answer within ``seconds``."""
        ends = time.monotonic() + seconds
        connect, read = self._timeout
        token = _ATTEMPT_ENDS.set(ends)
        try:
            response = self._session.request(
                request.method,
                url,
                json=request.json,
                headers=self._headers,
                timeout=(min(connect, seconds), min(read, seconds)),
                verify=self._verify,
                proxies=self._proxies,
                # A redirect to another host would carry the apikey header along.
                allow_redirects=False,
                stream=True,
            )
        except requests.exceptions.ReadTimeout:
            if seconds <= read:  # the attempt's own time ran out, not the server's read timeout
                raise AttemptTimeout(seconds) from None
            raise
        except requests.exceptions.ConnectionError:
            if time.monotonic() >= ends:  # the head's timer cut the connection
                raise AttemptTimeout(seconds) from None
            raise
        finally:
            _ATTEMPT_ENDS.reset(token)
        try:
            if time.monotonic() >= ends:  # cut in the middle of the headers: what came is not an answer
                raise AttemptTimeout(seconds)
            body = self._read_answer(response, request, seconds, ends)
            return Answer(response.status_code, body, response.headers.get("Retry-After"))
        finally:
            response.close()

    def _read_answer(
        self, response: requests.Response, request: ApiRequest, seconds: float, ends: float
    ) -> bytes:
        """The whole body of ``response``, read by chunks until ``ends`` (monotonic) at the latest.

        Each read waits at most the read timeout or what is left of the attempt (``seconds`` in all).
        Refused unread when the announced length passes the size cap, and as soon as what arrived does.
        """
        limit, read_timeout = self._max_bytes, self._timeout[1]
        self._refuse_announced(request, response.headers.get("Content-Length"))
        raw = response.raw
        body = bytearray()
        while True:
            left = ends - time.monotonic()
            if left <= 0:
                raise AttemptTimeout(seconds)
            # The socket's timeout applies to each read: shortened before every read, it keeps a stalled
            # answer from outliving the attempt. An answer without a socket (a test double) is left alone.
            sock = getattr(getattr(raw, "connection", None), "sock", None)
            if sock is not None:
                sock.settimeout(max(min(read_timeout, left), 0.001))
            try:
                chunk = raw.read1(READ_CHUNK_BYTES, decode_content=True)
            except urllib3.exceptions.ReadTimeoutError:
                if left <= read_timeout:
                    raise AttemptTimeout(seconds) from None
                raise
            if not chunk:
                return bytes(body)
            body += chunk
            if len(body) > limit:
                raise self._too_large(request)

    def _send(self, request: ApiRequest, *, max_attempts: int | None = None) -> bytes:
        """Send ``request``, retrying as the policy and the call's deadline allow; a 2xx body or raise.

        No attempt starts, and no retry sleeps, past the deadline of the task the call serves
        (:mod:`~airflow_provider_cloudos.client.transport`); each attempt ends by it too.
        """
        exchange = functools.partial(self._exchange, request, request.url(self.base_url))
        steps = self._attempts(request, max_attempts, logger).steps(_ERRORS)
        return run_blocking(steps, exchange, self._sleep)

    def _call(self, request: ApiRequest, read: Reader | None = None, max_attempts: int | None = None) -> Any:
        body = self._send(request, max_attempts=max_attempts)
        return None if read is None else read(body, request)

    def _json(self, body: bytes, request: ApiRequest) -> Any:
        return decode_json(body, request, secrets=self._secrets)

    def create_session(self, payload: dict[str, Any], workspace_id: str | None = None) -> dict[str, Any]:
        """Start a session; sent once only (see :mod:`~airflow_provider_cloudos.client.transport`)."""
        return self._call(api.create_session(self._workspace(workspace_id), payload), self._object)

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
        workspace = self._workspace(workspace_id)
        for page in itertools.count(1):
            request = api.list_sessions(workspace, page, page_size, statuses, only_owner, archived)
            sessions, total = self._listed(self._send(request), request)
            known = len(seen)
            for session in sessions:
                identity = _identity(session)
                if identity not in seen:
                    seen.add(identity)
                    yield session
            if len(sessions) < page_size or (total is not None and page * page_size >= total):
                return
            if len(seen) == known:
                logger.warning(
                    "CloudOS API list returned page %d with no new sessions; stopping the listing", page
                )
                return

    def search_projects(self, name: str, workspace_id: str | None = None) -> list[dict[str, Any]]:
        """Projects whose name contains ``name``; picking the exact match is the caller's job."""
        request = api.search_projects(self._workspace(workspace_id), name)
        return extract_items(self._call(request, self._json), "projects", request)

    def list_datasets(self, project_id: str, workspace_id: str | None = None) -> list[dict[str, Any]]:
        request = api.list_datasets(self._workspace(workspace_id), project_id)
        return extract_items(self._call(request, self._json), "datasets", request)

    def list_dataset_items(self, dataset_id: str, workspace_id: str | None = None) -> dict[str, Any]:
        """``{"folders": [...], "files": [...]}`` at the top of a dataset."""
        return self._call(api.list_dataset_items(self._workspace(workspace_id), dataset_id), self._object)

    def list_folder_items(
        self, folder_id: str, folder_type: str, workspace_id: str | None = None
    ) -> dict[str, Any]:
        """``{"folders": [...], "files": [...]}`` of a ``VirtualFolder`` or ``S3Folder``."""
        request = api.list_folder_items(self._workspace(workspace_id), folder_id, folder_type)
        return self._call(request, self._object)

    def check_access(self, workspace_id: str | None = None) -> int:
        """One cheap authenticated call (a one-item list); the number of sessions in the workspace."""
        return self.list_sessions(limit=1, archived=None, workspace_id=workspace_id)[1]


__all__ = ["CloudOSClient"]
