"""The shared reader: many waits on one connection served by a few list pages a round."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from airflow_provider_cloudos.client import AsyncCloudOSClient
from airflow_provider_cloudos.client.deadline import call_deadline
from airflow_provider_cloudos.client.shared_reads import SOLO_ASKS, connection_key, reader_for, readers
from airflow_provider_cloudos.testing import CloudOSSimulator, StateTimings

#: Sessions stay where they are put for the length of a test.
STILL = StateTimings(scheduled=0.0, setup=3600.0)


@pytest.fixture
def still() -> Iterator[CloudOSSimulator]:
    with CloudOSSimulator(timings=STILL) as simulator:
        yield simulator


def _client(simulator: CloudOSSimulator, api_key: str | None = None) -> AsyncCloudOSClient:
    return AsyncCloudOSClient(simulator.url, api_key or simulator.api_key, simulator.workspace_id)


def _key(simulator: CloudOSSimulator, api_key: str | None = None) -> object:
    return connection_key(simulator.url, simulator.workspace_id, api_key or simulator.api_key)


async def _ask_all(simulator: CloudOSSimulator, asks: list[tuple[str, tuple[str, ...]]]) -> list[dict | None]:
    async with _client(simulator) as client:
        reader = reader_for(_key(simulator))
        return list(await asyncio.gather(*(reader.latest(client, sid, statuses) for sid, statuses in asks)))


def test_a_round_of_many_waits_is_served_by_list_pages_not_reads(still):
    ids = [still.add_session(name=f"s{n}", status="setup")["_id"] for n in range(150)]
    still.add_session(name="someone-elses", status="ready")  # not in the statuses asked for
    still.counters.reset()

    answers = asyncio.run(_ask_all(still, [(sid, ("setup",)) for sid in ids]))

    assert [answer["_id"] for answer in answers] == ids
    assert all(answer["status"] == "setup" for answer in answers)
    assert still.counters.requests("list") == 2  # 150 sessions, 100 to a page
    assert still.counters.requests("get") == 0


def test_a_session_whose_status_changed_is_left_to_its_wait_to_read(still):
    waiting = [still.add_session(name=f"s{n}", status="setup")["_id"] for n in range(5)]
    moved = still.add_session(name="now-ready", status="ready")["_id"]

    answers = asyncio.run(_ask_all(still, [(sid, ("setup",)) for sid in [*waiting, moved]]))

    assert [answer and answer["_id"] for answer in answers] == [*waiting, None]


def test_a_few_waits_and_waits_that_name_no_status_read_their_own_sessions(still):
    ids = [still.add_session(name=f"s{n}", status="setup")["_id"] for n in range(SOLO_ASKS + 3)]
    still.counters.reset()

    few = asyncio.run(_ask_all(still, [(sid, ("setup",)) for sid in ids[:SOLO_ASKS]]))
    unnamed = asyncio.run(_ask_all(still, [(sid, ()) for sid in ids]))

    assert few == [None] * SOLO_ASKS
    assert unnamed == [None] * len(ids)
    assert still.counters.requests() == 0


def test_a_failed_listing_leaves_every_wait_to_read_its_own(still):
    ids = [still.add_session(name=f"s{n}", status="setup")["_id"] for n in range(5)]
    still.faults.fail_next("list", status=503)

    answers = asyncio.run(_ask_all(still, [(sid, ("setup",)) for sid in ids]))

    assert answers == [None] * 5
    assert still.counters.requests("list") == 1  # one attempt: the waits' own reads take over


def test_a_wait_past_its_deadline_does_not_wait_for_the_round(still):
    ids = [still.add_session(name=f"s{n}", status="setup")["_id"] for n in range(5)]

    async def run() -> tuple[dict | None, list[dict | None]]:
        async with _client(still) as client:
            reader = reader_for(_key(still))
            with call_deadline(time.time() - 1, "a deadline already gone"):
                late = asyncio.ensure_future(reader.latest(client, ids[0], ("setup",)))
            others = await asyncio.gather(*(reader.latest(client, sid, ("setup",)) for sid in ids[1:]))
            return await late, list(others)

    late, others = asyncio.run(run())

    assert late is None
    assert [answer["_id"] for answer in others] == ids[1:]


def test_a_cancelled_wait_leaves_the_round_and_the_others_are_served(still):
    ids = [still.add_session(name=f"s{n}", status="setup")["_id"] for n in range(5)]

    async def run() -> list[dict | None]:
        async with _client(still) as client:
            reader = reader_for(_key(still))
            asks = [asyncio.ensure_future(reader.latest(client, sid, ("setup",))) for sid in ids]
            await asyncio.sleep(0)
            asks[0].cancel()
            return list(await asyncio.gather(*asks[1:]))

    assert [answer["_id"] for answer in asyncio.run(run())] == ids[1:]


def test_connections_are_never_mixed_and_an_idle_reader_is_gone(still):
    async def run() -> tuple[bool, bool, int]:
        first = reader_for(_key(still))
        same = reader_for(connection_key(still.url, still.workspace_id, still.api_key))
        other_key = reader_for(_key(still, "another-key"))
        other_workspace = reader_for(connection_key(still.url, "f" * 24, still.api_key))
        held = readers()
        sid = still.add_session(status="setup")["_id"]
        async with _client(still) as client:
            await asyncio.gather(*(first.latest(client, sid, ("setup",)) for _ in range(SOLO_ASKS + 1)))
        return first is same, len({id(first), id(other_key), id(other_workspace)}) == 3, held

    same, distinct, held = asyncio.run(run())

    assert same
    assert distinct
    assert held == 3


def test_an_idle_reader_leaves_the_loop(still):
    sid = still.add_session(status="setup")["_id"]

    async def run() -> int:
        async with _client(still) as client:
            reader = reader_for(_key(still))
            await asyncio.gather(*(reader.latest(client, sid, ("setup",)) for _ in range(SOLO_ASKS + 1)))
            await asyncio.sleep(0)
            return readers()

    assert asyncio.run(run()) == 0


def test_the_reader_holds_no_api_key(still):
    key = _key(still)
    assert still.api_key not in repr(key)


class PagedClient:
    """A client whose listing is scripted page by page, to move sessions between two page reads."""

    def __init__(self, pages: list[list[dict]], total: int) -> None:
        self.pages, self.total, self.asked = pages, total, []

    async def list_sessions(self, *, page: int, limit: int, statuses: list[str], max_attempts: int):
        self.asked.append((page, tuple(statuses)))
        await asyncio.sleep(0.01)
        return self.pages[page - 1], self.total


def _sessions(ids: range, status: str = "setup") -> list[dict]:
    return [{"_id": f"{n:024x}", "status": status} for n in ids]


def _run_with(
    client: PagedClient, ids: list[str], statuses: tuple[str, ...] = ("setup",)
) -> list[dict | None]:
    async def run() -> list[dict | None]:
        reader = reader_for("scripted connection")
        return list(await asyncio.gather(*(reader.latest(client, sid, statuses) for sid in ids)))

    return asyncio.run(run())


def test_a_session_a_shifted_page_skipped_is_left_to_its_wait():
    # 150 waits; between the two page reads a new session pushed everything down by one, so
    # the session that was 100th is read on neither page.
    first, second = _sessions(range(100)), _sessions(range(100, 150))
    second_after_shift = [first[-1], *second[:-1]]
    client = PagedClient([first, second_after_shift], total=151)
    ids = [session["_id"] for session in first + second]

    answers = _run_with(client, ids)

    missed = [sid for sid, answer in zip(ids, answers, strict=True) if answer is None]
    assert missed == [second[-1]["_id"]]
    assert [page for page, _ in client.asked] == [1, 2]
    assert client.asked[0][1] == ("setup",)


def test_a_session_that_changed_status_between_pages_is_left_to_its_wait():
    first, second = _sessions(range(100)), _sessions(range(100, 150))
    became_ready = second.pop(7)  # it left the filtered listing after page 1 was read
    client = PagedClient([first, second], total=149)
    ids = [session["_id"] for session in first + second] + [became_ready["_id"]]

    answers = _run_with(client, ids)

    assert answers[-1] is None
    assert all(answer is not None for answer in answers[:-1])


def test_no_more_pages_than_the_waits_fill_plus_one():
    # 150 waits in a workspace of 2,000 sessions in setup: 2 pages for them, 1 more, no further.
    pages = [_sessions(range(n * 100 + 10_000, n * 100 + 10_100)) for n in range(20)]
    client = PagedClient(pages, total=2_000)
    ids = [f"{n:024x}" for n in range(150)]  # none of them on any page

    assert _run_with(client, ids) == [None] * 150
    assert sorted(page for page, _ in client.asked) == [1, 2, 3]


def test_waits_that_ask_during_a_round_are_served_by_the_next(still):
    early = [still.add_session(name=f"e{n}", status="setup")["_id"] for n in range(4)]
    late = [still.add_session(name=f"l{n}", status="setup")["_id"] for n in range(4)]
    still.counters.reset()

    async def run() -> tuple[list[dict | None], list[dict | None]]:
        async with _client(still) as client:
            reader = reader_for(_key(still))
            first = asyncio.gather(*(reader.latest(client, sid, ("setup",)) for sid in early))
            await asyncio.sleep(0.06)  # the first round has gathered its asks and is listing
            second = asyncio.gather(*(reader.latest(client, sid, ("setup",)) for sid in late))
            return list(await first), list(await second)

    first, second = asyncio.run(run())

    assert [answer["_id"] for answer in first] == early
    assert [answer["_id"] for answer in second] == late
    assert still.counters.requests("list") == 2


def test_a_429_on_the_listing_leaves_every_wait_to_read_its_own(still):
    ids = [still.add_session(name=f"s{n}", status="setup")["_id"] for n in range(5)]
    still.faults.fail_next("list", status=429, retry_after=1)

    assert asyncio.run(_ask_all(still, [(sid, ("setup",)) for sid in ids])) == [None] * 5
