"""One read serves many waits: the sessions of one connection read together, a page at a time.

A deferred wait used to read its own session every poll interval: a thousand waits on one
workspace were a thousand reads an interval. In a triggerer, the waits of one connection (the same
URL, key and workspace, in one event loop) share a reader instead. A wait asks it for its
session's latest object; asks that arrive within :data:`GATHER_SECONDS` of each other make one
round, and the round lists the workspace's sessions in the statuses the waits expect to find
them in (a wait for ``running`` names the live statuses and ``running``; never the paused and
terminated history that fills a workspace), 100 to a page, and hands each wait its own object.

A wait whose session the round did not see is told so (``None``) and reads its session itself at
once, with its own deadline and error handling, exactly as it did before: a session in a status
the filter left out, one a shifted page skipped, or any round whose listing failed.
So nothing is missed, and a change is noticed within one poll interval, as before.

A wait joins the reader with its first ask and leaves it when its client closes (the trigger's
end); the reader is dropped when its last wait leaves. Few waits gain nothing from a listing (a page
costs about what a read does): while at most :data:`SOLO_ASKS` waits use the reader, each reads its
own session at once, with no round and no delay (each session of a batch, asked for together by
the fleet trigger, counts as a wait); so does an ask that names no status (a listing without a
status filter would read the whole workspace), and a round that gathered that few asks.

The rounds run with no task's deadline (a fresh context): they serve many waits, and each wait
bounds its own wait for the answer by its deadline, falling back to its own read.
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import logging
import math
import time
import weakref
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_provider_cloudos.client.api import MAX_PAGE_SIZE
from airflow_provider_cloudos.client.transport import current_deadline
from airflow_provider_cloudos.core.errors import CloudOSError

if TYPE_CHECKING:
    from airflow_provider_cloudos.client.async_client import AsyncCloudOSClient

logger = logging.getLogger(__name__)

#: How long a round waits for more asks after the first. Waits polling at the same interval fall
#: into step after one round (each sleeps its interval from the same answer), so this only has to
#: cover the spread of one round's answers.
GATHER_SECONDS = 0.05
#: A round of this many asks or fewer reads nothing itself: each wait reads its own session.
SOLO_ASKS = 2
#: Pages a round may read beyond what its sessions fill at 100 a page, when the whole listing has
#: more pages than the round has waits (a busy workspace: reading one by one then costs less).
EXTRA_PAGES = 1
#: Pages of one round read at the same time, once the first has said how many there are.
PAGES_AT_ONCE = 4


@dataclass(slots=True, eq=False)
class _Ask:
    """One wait's ask: its session, the statuses it expects it in, and where its answer goes."""

    client: AsyncCloudOSClient
    session_id: str
    statuses: frozenset[str]
    answer: asyncio.Future[dict[str, Any] | None]


class SharedReader:
    """The reader of one connection in one event loop; see the module's docstring."""

    def __init__(self) -> None:
        self._asks: list[_Ask] = []
        self._round: asyncio.Task[None] | None = None
        #: The waits using the reader: each one's client (a wait's client is gone, it has left).
        self._waits: weakref.WeakSet[AsyncCloudOSClient] = weakref.WeakSet()
        #: The client the current listing reads through, and its end: see :func:`leave`.
        self._lister: AsyncCloudOSClient | None = None
        self._listed: asyncio.Future[None] | None = None

    async def latest(
        self, client: AsyncCloudOSClient, session_id: str, statuses: Iterable[str]
    ) -> dict[str, Any] | None:
        """The session's object from the next round, or None when the caller must read it itself.

        ``statuses`` are the API statuses to list by, where the caller expects its session.
        """
        return (await self.latest_of(client, [session_id], statuses)).get(session_id)

    async def latest_of(
        self, client: AsyncCloudOSClient, session_ids: Iterable[str], statuses: Iterable[str]
    ) -> dict[str, dict[str, Any]]:
        """The objects the next round found of ``session_ids``, by id: the waits of one batch (the
        fleet trigger's), asked together. The caller reads the sessions missing from the answer."""
        self._waits.add(client)
        expected = frozenset(statuses)
        loop = asyncio.get_running_loop()
        asks = [_Ask(client, session_id, expected, loop.create_future()) for session_id in session_ids]
        # Each of this caller's sessions is a wait, as each other wait on the reader is.
        if not expected or len(asks) + len(self._waits) - 1 <= SOLO_ASKS:
            return {}
        self._asks.extend(asks)
        if self._round is None:
            # A fresh context: the round serves every wait, and no one wait's deadline holds it.
            self._round = loop.create_task(self._run_round(), context=contextvars.Context())
        deadline = current_deadline()
        limit = None if deadline is None else max(0.0, deadline.at - time.time())
        try:
            # Past the deadline the caller's own reads meet it, as they always did.
            await asyncio.wait([ask.answer for ask in asks], timeout=limit)
        finally:
            for ask in asks:
                ask.answer.cancel()  # no-op once answered
        return {
            ask.session_id: answer
            for ask in asks
            if not ask.answer.cancelled() and (answer := ask.answer.result()) is not None
        }

    async def _run_round(self) -> None:
        """Serve the asks gathered; asks made meanwhile are the next round, at once. Rounds never
        overlap: two at a time would read the same pages twice, from one request budget."""
        await asyncio.sleep(GATHER_SECONDS)
        try:
            while self._asks:
                asks, self._asks = self._asks, []
                await self._serve(asks)
        finally:
            self._round = None

    async def _serve(self, asks: list[_Ask]) -> None:
        waiting: dict[str, list[_Ask]] = {}
        for ask in asks:
            if not ask.answer.done():
                waiting.setdefault(ask.session_id, []).append(ask)
        listed = self._listed = asyncio.get_running_loop().create_future()
        # Any waiting ask's client will do: they are all this one connection's.
        self._lister = next(iter(waiting.values()))[0].client if waiting else None
        try:
            if len(asks) > SOLO_ASKS and self._lister is not None:
                await self._list(self._lister, waiting)
        except CloudOSError as error:
            logger.info("Listing %d waited sessions failed; each wait reads its own: %s", len(waiting), error)
        finally:
            self._lister = self._listed = None
            listed.set_result(None)
            for unseen in waiting.values():
                _answer(unseen, None)

    async def _list(self, client: AsyncCloudOSClient, waiting: dict[str, list[_Ask]]) -> None:
        """Hand each waited session found in the listing to its asks, page by page as they come.

        Answering a page at a time keeps the loop responsive (a hundred waits wake together, not
        thousands) and lets the first waits go on while later pages are read. After the first
        page says how many sessions match, the rest are read :data:`PAGES_AT_ONCE` at a time.
        """
        statuses = sorted(frozenset().union(*(ask.statuses for asks in waiting.values() for ask in asks)))
        asked = len(waiting)

        async def read_page(page: int) -> int:
            sessions, total = await client.list_sessions(
                page=page, limit=MAX_PAGE_SIZE, statuses=statuses, max_attempts=1
            )
            for session in sessions:
                asks = waiting.pop(str(session.get("_id")), None)
                if asks is not None:
                    _answer(asks, session)
            return total

        total = await read_page(1)
        every_page = math.ceil(total / MAX_PAGE_SIZE)
        # Every page when that costs no more than reading each unseen session on its own (the waits
        # of another triggerer can hold half of what matches); else the pages these waits fill.
        last_page = every_page if every_page <= asked else math.ceil(asked / MAX_PAGE_SIZE) + EXTRA_PAGES
        pages = range(2, min(last_page, every_page) + 1)
        limit = asyncio.Semaphore(PAGES_AT_ONCE)

        async def read_next(page: int) -> None:
            async with limit:
                if not waiting:
                    return
                try:
                    await read_page(page)
                except CloudOSError as error:  # its sessions' waits read their own
                    logger.info("Listing page %d of the waited sessions failed: %s", page, error)

        await asyncio.gather(*(read_next(page) for page in pages))


def _answer(asks: list[_Ask], session: dict[str, Any] | None) -> None:
    for ask in asks:
        if not ask.answer.done():
            ask.answer.set_result(session)


_READERS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[Hashable, SharedReader]] = (
    weakref.WeakKeyDictionary()
)


def connection_key(base_url: str, workspace_id: str | None, api_key: str) -> Hashable:
    """What makes two clients one connection; the key itself is kept only as a digest."""
    return (base_url, workspace_id, hashlib.sha256(api_key.encode()).hexdigest())


def reader_for(key: Hashable) -> SharedReader:
    """The running loop's reader for the connection ``key``, made on first use, gone when idle."""
    readers = _READERS.setdefault(asyncio.get_running_loop(), {})
    return readers.get(key) or readers.setdefault(key, SharedReader())


async def leave(key: Hashable, client: AsyncCloudOSClient) -> None:
    """``client`` (a wait on connection ``key``) is closing: it leaves the reader, if it joined one;
    the last wait to leave drops the reader. Called from the client's close, before it leaves the
    loop's pool: a client the current listing reads through waits for the listing to end first
    (its wait, answered by the first page, may end while the next pages are read)."""
    readers = _READERS.get(asyncio.get_running_loop(), {})
    reader = readers.get(key)
    if reader is None:
        return
    reader._waits.discard(client)
    if reader._lister is client and reader._listed is not None:
        await asyncio.shield(reader._listed)
    if not reader._waits and readers.get(key) is reader:
        del readers[key]
