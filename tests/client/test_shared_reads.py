"""The shared reader: many waits on one connection served by a few list pages a round."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import AsyncExitStack

import pytest

from airflow_provider_cloudos.client import AsyncCloudOSClient, async_client, shared_reads
from airflow_provider_cloudos.client.shared_reads import SOLO_ASKS, connection_key, reader_for
from airflow_provider_cloudos.client.transport import call_deadline
from airflow_provider_cloudos.testing import CloudOSSimulator, StateTimings

#: Sessions stay where they are put for the length of a test.
STILL = StateTimings(scheduled=0.0, setup=3600.0)
SETUP = ("setup",)


@pytest.fixture
def still() -> Iterator[CloudOSSimulator]:
    with CloudOSSimulator(timings=STILL) as simulator:
        yield simulator


def _client(simulator: CloudOSSimulator, api_key: str | None = None) -> AsyncCloudOSClient:
    return AsyncCloudOSClient(simulator.url, api_key or simulator.api_key, simulator.workspace_id)


async def _joined(clients: list) -> list:
    """The waits of ``clients`` joined their reader (as each does with its first look)."""
    for client in clients:
        assert await reader_for(_key_of(client)).latest(client, "first look", ()) is None
    return clients


def _key_of(client: object) -> object:
    return getattr(client, "_connection", "scripted connection")


async def _waits(stack: AsyncExitStack, simulator: CloudOSSimulator, n: int) -> list[AsyncCloudOSClient]:
    """A client for each of ``n`` waits (each trigger reads through its own hook's client), joined."""
    return await _joined([await stack.enter_async_context(_client(simulator)) for _ in range(n)])


async def _ask_all(simulator: CloudOSSimulator, ids: list[str], statuses: tuple[str, ...] = SETUP) -> list:
    """Each session asked for by its own wait, all at once, through the client's shared read."""
    async with AsyncExitStack() as stack:
        clients = await _waits(stack, simulator, len(ids))
        reader = reader_for(clients[0]._connection)
        return list(
            await asyncio.gather(
                *(reader.latest(client, sid, statuses) for client, sid in zip(clients, ids, strict=True))
            )
        )


def test_a_round_of_many_waits_is_served_by_list_pages_not_reads(still):
    ids = [still.add_session(name=f"s{n}", status="setup")["_id"] for n in range(150)]
    still.add_session(name="someone-elses", status="ready")  # not in the statuses asked for
    still.counters.reset()

    answers = asyncio.run(_ask_all(still, ids))

    assert [answer["_id"] for answer in answers] == ids
    assert all(answer["status"] == "setup" for answer in answers)
    assert still.counters.requests("list") == 2  # 150 sessions, 100 to a page
    assert still.counters.requests("get") == 0


def test_the_clients_shared_read_falls_back_to_its_own_read_for_a_session_the_listing_missed(still):
    waiting = [still.add_session(name=f"s{n}", status="setup")["_id"] for n in range(5)]
    ready = still.add_session(name="now-ready", status="ready")["_id"]
    still.counters.reset()

    async def run() -> list[dict]:
        async with AsyncExitStack() as stack:
            clients = await _waits(stack, still, 6)
            return list(
                await asyncio.gather(
                    *(
                        client.read_session(sid, SETUP)
                        for client, sid in zip(clients, [*waiting, ready], strict=True)
                    )
                )
            )

    answers = asyncio.run(run())

    assert [answer["_id"] for answer in answers] == [*waiting, ready]
    assert still.counters.requests("list") == 1
    assert still.counters.requests("get") == 1  # only the session the listing did not hold


def test_a_few_waits_and_asks_that_name_no_status_read_their_own_sessions_at_once(still):
    ids = [still.add_session(name=f"s{n}", status="setup")["_id"] for n in range(SOLO_ASKS + 3)]
    still.counters.reset()

    few = asyncio.run(_ask_all(still, ids[:SOLO_ASKS]))
    unnamed = asyncio.run(_ask_all(still, ids, statuses=()))

    assert few == [None] * SOLO_ASKS
    assert unnamed == [None] * len(ids)
    assert still.counters.requests() == 0


def test_a_batch_of_one_caller_is_listed_and_a_batch_as_few_as_the_solo_waits_is_not(still):
    """The fleet trigger asks for all its pending sessions together: each counts as a wait."""
    ids = [still.add_session(name=f"s{n}", status="setup")["_id"] for n in range(150)]
    ready = still.add_session(name="now-ready", status="ready")["_id"]
    still.counters.reset()

    async def run(asked: list[str]) -> dict[str, dict]:
        async with _client(still) as client:
            return await client.read_sessions(asked, SETUP)

    found = asyncio.run(run([*ids, ready]))
    assert still.counters.requests("list") == 2  # 150 sessions, 100 to a page
    few = asyncio.run(run(ids[:SOLO_ASKS]))

    assert list(found) == ids, "the session the listing did not hold is the caller's to read"
    assert few == {}
    assert still.counters.requests("list") == 2
    assert still.counters.requests("get") == 0


def test_a_failed_listing_leaves_every_wait_to_read_its_own(still):
    ids = [still.add_session(name=f"s{n}", status="setup")["_id"] for n in range(5)]
    still.faults.fail_next("list", status=503)

    assert asyncio.run(_ask_all(still, ids)) == [None] * 5
    assert still.counters.requests("list") == 1  # one attempt: the waits' own reads take over


def test_a_429_on_the_listing_leaves_every_wait_to_read_its_own(still):
    ids = [still.add_session(name=f"s{n}", status="setup")["_id"] for n in range(5)]
    still.faults.fail_next("list", status=429, retry_after=1)

    assert asyncio.run(_ask_all(still, ids)) == [None] * 5


def test_a_wait_past_its_deadline_does_not_wait_for_the_round(still):
    ids = [still.add_session(name=f"s{n}", status="setup")["_id"] for n in range(5)]

    async def run() -> tuple[dict | None, list[dict | None]]:
        async with AsyncExitStack() as stack:
            clients = await _waits(stack, still, 5)
            reader = reader_for(clients[0]._connection)
            with call_deadline(time.time() - 1, "a deadline already gone"):
                late = asyncio.ensure_future(reader.latest(clients[0], ids[0], SETUP))
            others = await asyncio.gather(
                *(reader.latest(client, sid, SETUP) for client, sid in zip(clients[1:], ids[1:], strict=True))
            )
            return await late, list(others)

    late, others = asyncio.run(run())

    assert late is None
    assert [answer["_id"] for answer in others] == ids[1:]


def test_a_cancelled_wait_leaves_the_round_and_the_others_are_served(still):
    ids = [still.add_session(name=f"s{n}", status="setup")["_id"] for n in range(5)]

    async def run() -> list[dict | None]:
        async with AsyncExitStack() as stack:
            clients = await _waits(stack, still, 5)
            reader = reader_for(clients[0]._connection)
            asks = [
                asyncio.ensure_future(reader.latest(client, sid, SETUP))
                for client, sid in zip(clients, ids, strict=True)
            ]
            await asyncio.sleep(0)
            asks[0].cancel()
            return list(await asyncio.gather(*asks[1:]))

    assert [answer["_id"] for answer in asyncio.run(run())] == ids[1:]


def test_waits_that_ask_during_a_round_are_served_by_the_next(still):
    early = [still.add_session(name=f"e{n}", status="setup")["_id"] for n in range(4)]
    late = [still.add_session(name=f"l{n}", status="setup")["_id"] for n in range(4)]
    still.counters.reset()

    async def run() -> tuple[list[dict | None], list[dict | None]]:
        async with AsyncExitStack() as stack:
            clients = await _waits(stack, still, 8)
            reader = reader_for(clients[0]._connection)
            ask = reader.latest
            first = asyncio.gather(*(ask(c, sid, SETUP) for c, sid in zip(clients[:4], early, strict=True)))
            await asyncio.sleep(0.06)  # the first round has gathered its asks and is listing
            second = asyncio.gather(*(ask(c, sid, SETUP) for c, sid in zip(clients[4:], late, strict=True)))
            return list(await first), list(await second)

    first, second = asyncio.run(run())

    assert [answer["_id"] for answer in first] == early
    assert [answer["_id"] for answer in second] == late
    assert still.counters.requests("list") == 2


def test_connections_are_never_mixed(still):
    async def run() -> tuple[object, ...]:
        return (
            reader_for(connection_key(still.url, still.workspace_id, still.api_key)),
            reader_for(connection_key(still.url, still.workspace_id, still.api_key)),
            reader_for(connection_key(still.url, still.workspace_id, "another-key")),
            reader_for(connection_key(still.url, "f" * 24, still.api_key)),
        )

    first, same, other_key, other_workspace = asyncio.run(run())

    assert first is same
    assert len({id(first), id(other_key), id(other_workspace)}) == 3


def test_the_reader_stops_when_its_last_wait_leaves(still):
    ids = [still.add_session(name=f"s{n}", status="setup")["_id"] for n in range(4)]

    async def run() -> list[int]:
        held = []
        clients = await _joined([_client(still) for _ in ids])
        await asyncio.gather(*(c.read_session(sid, SETUP) for c, sid in zip(clients, ids, strict=True)))
        held.append(len(shared_reads._READERS.get(asyncio.get_running_loop(), {})))
        for client in clients:
            await client.close()
            held.append(len(shared_reads._READERS.get(asyncio.get_running_loop(), {})))
        return held

    assert asyncio.run(run()) == [1, 1, 1, 1, 0]


def test_a_wait_whose_client_lists_for_the_round_may_end_on_the_first_page_and_the_rest_are_still_listed(
    still,
):
    """The round lists through one wait's client. That wait is answered by the first page and its
    trigger ends, closing the client (the last user of the loop's pool) while the next page is read:
    the page must still be read, not fail and leave a hundred waits to read their own."""
    ids = [still.add_session(name=f"s{n}", status="setup")["_id"] for n in range(150)]
    still.faults.latency = 0.05  # the second page is in flight when the first page's waits end
    still.counters.reset()

    async def wait_then_end(client: AsyncCloudOSClient, session_id: str) -> dict:
        try:
            return await client.read_session(session_id, SETUP)
        finally:
            await client.close()  # the trigger's end

    async def run() -> tuple[list[dict], bool]:
        newest_first = ids[::-1]  # as CloudOS lists them: the first wait to ask is on the first page
        clients = await _joined([_client(still) for _ in ids])
        answers = await asyncio.gather(
            *(wait_then_end(c, sid) for c, sid in zip(clients, newest_first, strict=True))
        )
        return list(answers)[::-1], asyncio.get_running_loop() in async_client._POOLS

    answers, pool_left_open = asyncio.run(run())

    assert [answer["_id"] for answer in answers] == ids
    assert (still.counters.requests("list"), still.counters.requests("get")) == (2, 0)
    assert not pool_left_open, "the last client out closed the loop's pool"


def test_the_reader_holds_no_api_key(still):
    assert still.api_key not in repr(connection_key(still.url, still.workspace_id, still.api_key))


class PagedScript:
    """A listing scripted page by page (shared by the waits' clients), to move sessions between reads."""

    def __init__(self, pages: list[list[dict]], total: int) -> None:
        self.pages, self.total, self.asked = pages, total, []


class PagedClient:
    def __init__(self, script: PagedScript) -> None:
        self.script = script

    async def list_sessions(self, *, page: int, limit: int, statuses: list[str], max_attempts: int):
        self.script.asked.append((page, tuple(statuses)))
        await asyncio.sleep(0.01)
        return self.script.pages[page - 1], self.script.total


def _sessions(ids: range, status: str = "setup") -> list[dict]:
    return [{"_id": f"{n:024x}", "status": status} for n in ids]


def _run_with(script: PagedScript, ids: list[str]) -> list[dict | None]:
    async def run() -> list[dict | None]:
        reader = reader_for("scripted connection")
        clients = await _joined([PagedClient(script) for _ in ids])
        return list(
            await asyncio.gather(
                *(reader.latest(client, sid, SETUP) for client, sid in zip(clients, ids, strict=True))
            )
        )

    return asyncio.run(run())


def test_a_session_a_shifted_page_skipped_is_left_to_its_wait():
    # 150 waits; between the two page reads a new session pushed everything down by one, so
    # the session that was 100th is read on neither page.
    first, second = _sessions(range(100)), _sessions(range(100, 150))
    second_after_shift = [first[-1], *second[:-1]]
    script = PagedScript([first, second_after_shift], total=151)
    ids = [session["_id"] for session in first + second]

    answers = _run_with(script, ids)

    missed = [sid for sid, answer in zip(ids, answers, strict=True) if answer is None]
    assert missed == [second[-1]["_id"]]
    assert [page for page, _ in script.asked] == [1, 2]
    assert script.asked[0][1] == SETUP


def test_a_session_that_changed_status_between_pages_is_left_to_its_wait():
    first, second = _sessions(range(100)), _sessions(range(100, 150))
    became_ready = second.pop(7)  # it left the filtered listing after page 1 was read
    script = PagedScript([first, second], total=149)
    ids = [session["_id"] for session in first + second] + [became_ready["_id"]]

    answers = _run_with(script, ids)

    assert answers[-1] is None
    assert all(answer is not None for answer in answers[:-1])


def test_every_page_is_read_when_that_costs_less_than_reading_each_missed_session():
    # 143 waits whose sessions are spread over 10 pages (another triggerer waits for the rest):
    # 10 list reads serve them all, where the pages they fill (2, and 1 more) would leave 100 to
    # be read one by one.
    pages = [_sessions(range(n * 100, n * 100 + 100)) for n in range(10)]
    script = PagedScript(pages, total=1_000)
    ids = [session["_id"] for page in pages for session in page][::7][:150]

    answers = _run_with(script, ids)

    assert all(answer is not None for answer in answers)
    assert sorted(page for page, _ in script.asked) == list(range(1, 11))


def test_a_few_waits_in_a_busy_workspace_read_only_the_pages_they_fill_plus_one():
    # 5 waits in a workspace of 2,000 sessions in setup: 20 pages cost more than 5 reads.
    script = PagedScript([_sessions(range(n * 100 + 10_000, n * 100 + 10_100)) for n in range(20)], 2_000)
    ids = [f"{n:024x}" for n in range(5)]  # none of them on any page

    assert _run_with(script, ids) == [None] * 5
    assert sorted(page for page, _ in script.asked) == [1, 2]
