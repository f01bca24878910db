"""The asynchronous CloudOS client, on ``aiohttp``, for triggers.

A trigger polls from the triggerer's event loop, where a blocking ``requests`` call would stall
every other trigger; this client makes the same calls without blocking. It executes the same
endpoint descriptions and the same retry policy as the synchronous client. Its requests go
through the running loop's shared connection pool (:func:`join_pool`),
joined on first use and left on :meth:`AsyncCloudOSClient.close`, so thousands of triggers polling
in one triggerer reuse a few dozen keep-alive connections instead of holding one each.

One difference from ``requests`` is aiohttp's own: when the server drops the connection under a
GET or PUT, aiohttp resends it once, immediately (RFC 9112 9.3.1, meant for kept-alive
connections the server closed meanwhile). The provider's policy applies on top of that; it
never concerns the POST that creates a session.

Each attempt has a total time (aiohttp's ``total`` timeout covers connecting, sending and reading
the whole answer), shortened to what is left of the task's deadline
(:mod:`~airflow_provider_cloudos.client.transport`); the answer is read in chunks against the size
cap. Proxy and CA bundle follow :mod:`~airflow_provider_cloudos.client.transport`, exactly as the
blocking client does, and go with each request (the shared pool trusts no environment itself).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import ssl
import time
import weakref
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

import aiohttp

from airflow_provider_cloudos.client import shared_reads
from airflow_provider_cloudos.client.api import ApiRequest
from airflow_provider_cloudos.client.shared_reads import connection_key
from airflow_provider_cloudos.client.transport import (
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_REQUESTS_PER_SECOND,
    READ_CHUNK_BYTES,
    Answer,
    ClientBase,
    Reader,
    RetryPolicy,
    TransportErrors,
    budget_for,
    check_rate,
    check_seconds,
    check_verify,
    parse_retry_after,
    run_awaited,
    tls_reason,
    verify_from_environment,
)
from airflow_provider_cloudos.core.errors import CloudOSResponseTooLargeError, CloudOSValidationError

logger = logging.getLogger(__name__)

#: What aiohttp's exceptions mean to the retry loop. Its ``total`` timeout is the attempt's time,
#: so a timeout is reported as the attempt's whichever one fired.
_ERRORS = TransportErrors(
    tls=(aiohttp.ClientSSLError,),
    passing=(aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, asyncio.TimeoutError),
    timeouts=(asyncio.TimeoutError, aiohttp.ServerTimeoutError),
    unsendable=(aiohttp.ClientError,),
    timeout_is_the_attempts=True,
)


def ssl_option(verify: bool | str) -> bool | ssl.SSLContext:
    """aiohttp's ``ssl`` argument for a ``verify`` setting (a CA bundle path becomes a context)."""
    checked = check_verify(verify)
    return checked if isinstance(checked, bool) else _bundle_context(checked, verify)


@functools.lru_cache(maxsize=16)
def _bundle_context(path: str, verify: bool | str) -> ssl.SSLContext:
    """One context per CA bundle: the context is part of aiohttp's connection key, so clients
    that trust the same bundle share the pool's keep-alive connections."""
    try:
        if os.path.isdir(path):
            return ssl.create_default_context(capath=path)
        return ssl.create_default_context(cafile=path)
    except (ssl.SSLError, OSError) as exc:
        raise CloudOSValidationError("verify", verify, f"not a usable CA bundle: {tls_reason(exc)}") from None


# --- one aiohttp connection pool per event loop, shared by every async client in that loop -------
#
# A triggerer runs thousands of triggers in one loop. With a ``ClientSession`` each, every waiting
# session held its own connector, cookie jar and keep-alive socket: about half of a wait's memory,
# one TCP connection per wait (BENCHMARKS.md, "waiting at scale"). Sharing one session per loop
# leaves a few dozen sockets for the whole triggerer. Sharing is safe because nothing that tells
# clients apart lives in the session: the API key and user agent travel as per-request headers,
# the TLS setting is a per-request ``ssl`` argument (part of aiohttp's connection key), timeouts
# are per request, and cookies are not kept at all. Clients count themselves in with
# :func:`join_pool` and out with :func:`leave_pool`; the last one out closes the session.


#: How long a 429 without a usable ``Retry-After`` holds the connection's requests.
TOO_MANY_REQUESTS_HOLD_SECONDS = 1.0

#: Sockets in one loop's pool. A poll takes milliseconds, so a few dozen keep-alive connections
#: carry thousands of waits polling every few seconds; beyond that, requests queue for a socket.
POOL_CONNECTIONS = 64


@dataclass(slots=True, eq=False)
class _LoopPool:
    session: aiohttp.ClientSession
    users: int = 0


_POOLS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopPool] = weakref.WeakKeyDictionary()


def join_pool() -> aiohttp.ClientSession:
    """The running loop's shared session, counting one more user (call :func:`leave_pool` once)."""
    loop = asyncio.get_running_loop()
    pool = _POOLS.get(loop)
    if pool is None or pool.session.closed:
        connector = aiohttp.TCPConnector(limit=POOL_CONNECTIONS, keepalive_timeout=30.0)
        session = aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar())
        pool = _POOLS[loop] = _LoopPool(session)
    pool.users += 1
    return pool.session


async def leave_pool(session: aiohttp.ClientSession) -> None:
    """Count one user out of ``session``'s pool; the last one closes it.

    The pool leaves the registry before the close is awaited, so a client that acquires meanwhile
    gets a fresh session rather than the one being closed.
    """
    loop = asyncio.get_running_loop()
    pool = _POOLS.get(loop)
    if pool is None or pool.session is not session:
        # Acquired in another loop (it cannot be closed from this one) or already replaced
        # after a close: nothing of this loop's pool to count out.
        return
    pool.users -= 1
    if pool.users <= 0:
        del _POOLS[loop]
        await session.close()


class AsyncCloudOSClient(ClientBase):
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
        timeout: float = 60.0,
        connect_timeout: float = 10.0,
        read_timeout: float | None = None,
        verify: bool | str = True,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        proxy: str | None = None,
        no_proxy: str | None = None,
        retry_policy: RetryPolicy | None = None,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        clock: Callable[[], float] = time.time,
        user_agent: str | None = None,
        max_requests_per_second: float = DEFAULT_REQUESTS_PER_SECOND,
    ) -> None:
        attempt_seconds = check_seconds(timeout, "timeout")
        self._requests_per_second = check_rate(max_requests_per_second)
        self._connect_timeout = check_seconds(connect_timeout, "connect_timeout")
        self._read_timeout = None if read_timeout is None else check_seconds(read_timeout, "read_timeout")
        self._ssl = ssl_option(verify_from_environment(verify))
        super().__init__(
            base_url, api_key, workspace_id, attempt_seconds, max_response_bytes,
            proxy, no_proxy, retry_policy, clock, user_agent, sleep,
        )  # fmt: skip
        self._proxy = self._route.without_credentials()
        # The proxy's credentials: aiohttp sends ``proxy_headers`` with a CONNECT (an https target)
        # only; an http target goes to the proxy as an ordinary request carrying the header itself.
        authorization = self._route.basic_authorization()
        self._proxy_headers = {"Proxy-Authorization": authorization} if authorization else None
        if authorization and self.base_url.startswith("http://"):
            self._headers["Proxy-Authorization"] = authorization
        self._session: aiohttp.ClientSession | None = None
        self._session_loop: asyncio.AbstractEventLoop | None = None
        #: What makes this client's connection one with another's: its shared reader and budget.
        self._connection = connection_key(self.base_url, self.workspace_id, api_key)

    async def __aenter__(self) -> AsyncCloudOSClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Leave the loop's shared pool (the last client out closes it) and the connection's shared
        reader; a later call joins again."""
        await shared_reads.leave(self._connection, self)
        session, self._session = self._session, None
        if session is not None:
            await leave_pool(session)

    async def _exchange(self, request: ApiRequest, budget: float) -> Answer:
        """One attempt: wait for the connection's turn (:mod:`.transport`), then connect, send, and
        read the whole answer within what is left of ``budget``."""
        turns = budget_for(self._connection, self._requests_per_second)
        delay = turns.turn()
        if delay > 0:
            if delay >= budget:
                raise TimeoutError  # the attempt's time went waiting for its turn
            await asyncio.sleep(delay)
            budget -= delay
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._session_loop is not loop:
            # The running loop's shared session, joined on first use (a client moved to another
            # loop joins that loop's pool).
            self._session = join_pool()
            self._session_loop = loop
        async with self._session.request(
            request.method,
            request.url(self.base_url),
            json=request.json,
            headers=self._headers,
            ssl=self._ssl,
            # ``total`` covers connecting, sending and reading the whole answer, however slowly it drips.
            timeout=aiohttp.ClientTimeout(
                total=budget,
                sock_connect=min(self._connect_timeout, budget),
                sock_read=None if self._read_timeout is None else min(self._read_timeout, budget),
            ),
            proxy=self._proxy,
            proxy_headers=self._proxy_headers,
            # A redirect to another host would carry the apikey header along.
            allow_redirects=False,
        ) as response:
            try:
                self._refuse_announced(request, response.headers.get("Content-Length"))
                body = bytearray()
                async for chunk in response.content.iter_chunked(READ_CHUNK_BYTES):
                    body += chunk
                    if len(body) > self._max_bytes:
                        raise self._too_large(request)
            except CloudOSResponseTooLargeError:
                response.close()  # drop the connection rather than drain what was refused
                raise
            answer = Answer(response.status, bytes(body), response.headers.get("Retry-After"))
        if answer.status == 429:
            # Every wait and pause of this connection holds off, not just this request.
            turns.hold(parse_retry_after(answer.retry_after) or TOO_MANY_REQUESTS_HOLD_SECONDS)
        return answer

    async def _send(self, request: ApiRequest, *, max_attempts: int | None = None) -> bytes:
        """The blocking client's ``_send``, awaited: the same retry loop (:mod:`.transport`), policy
        and deadline; an attempt that timed out is reported as one whatever aiohttp raised."""
        exchange = functools.partial(self._exchange, request)
        steps = self._attempts(request, max_attempts, logger).steps(_ERRORS)
        return await run_awaited(steps, exchange, self._sleep)

    async def _call(self, request: ApiRequest, read: Reader | None, max_attempts: int | None) -> Any:
        body = await self._send(request, max_attempts=max_attempts)
        return None if read is None else read(body, request)

    async def read_session(self, session_id: str, listed_in: Iterable[str]) -> dict[str, Any]:
        """:meth:`get_session` for one of many waits on this connection: the loop's shared reader
        (:mod:`.shared_reads`) answers it from a listing of the API statuses ``listed_in`` when it
        can; else, or when ``listed_in`` is empty, the session is read on its own."""
        seen = await shared_reads.reader_for(self._connection).latest(self, session_id, listed_in)
        return seen if seen is not None else await self.get_session(session_id)

    async def read_sessions(
        self, session_ids: Iterable[str], listed_in: Iterable[str]
    ) -> dict[str, dict[str, Any]]:
        """The sessions of a batch's waits (the fleet trigger's) that one listing of the API statuses
        ``listed_in`` found, by id, from the shared reader's next round; the caller reads the rest."""
        return await shared_reads.reader_for(self._connection).latest_of(self, session_ids, listed_in)


__all__ = ["AsyncCloudOSClient", "ssl_option"]
