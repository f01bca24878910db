"""One ``aiohttp`` connection pool per event loop, shared by every async client in that loop.

A triggerer runs thousands of triggers in one loop. With a ``ClientSession`` each, every waiting
session held its own connector, cookie jar and keep-alive socket: about half of a wait's memory,
one TCP connection per wait, and a garbage collector scanning all of it (BENCHMARKS.md, "waiting
at scale"). Sharing one session per loop leaves a few dozen sockets for the whole triggerer.

Sharing is safe because nothing that tells clients apart lives in the session: the API key and
user agent travel as per-request headers, the TLS setting is a per-request ``ssl`` argument (part
of aiohttp's connection key, so connections made under different TLS settings are never mixed),
timeouts are per request, and cookies are not kept at all, so one connection's cookies can never
reach a request made with another connection's key.

Clients count themselves in with :func:`acquire` and out with :func:`release`; the last one out
closes the session, so a loop with no client left holds no socket.
"""

from __future__ import annotations

import asyncio
import weakref

import aiohttp

#: Sockets in one loop's pool. A poll takes milliseconds, so a few dozen keep-alive connections
#: carry thousands of waits polling every few seconds; beyond that, requests queue for a socket.
POOL_CONNECTIONS = 64
KEEPALIVE_SECONDS = 30.0


class _LoopPool:
    __slots__ = ("session", "users")

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self.session = session
        self.users = 0


_POOLS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopPool] = weakref.WeakKeyDictionary()


def acquire() -> aiohttp.ClientSession:
    """The running loop's shared session, counting one more user (call :func:`release` once)."""
    loop = asyncio.get_running_loop()
    pool = _POOLS.get(loop)
    if pool is None or pool.session.closed:
        connector = aiohttp.TCPConnector(limit=POOL_CONNECTIONS, keepalive_timeout=KEEPALIVE_SECONDS)
        session = aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar())
        pool = _POOLS[loop] = _LoopPool(session)
    pool.users += 1
    return pool.session


async def release(session: aiohttp.ClientSession) -> None:
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


def users(loop: asyncio.AbstractEventLoop | None = None) -> int:
    """How many clients use the pool of ``loop`` (default: the running loop); for tests and benchmarks."""
    pool = _POOLS.get(loop or asyncio.get_running_loop())
    return 0 if pool is None or pool.session.closed else pool.users


__all__ = ["KEEPALIVE_SECONDS", "POOL_CONNECTIONS", "acquire", "release", "users"]
