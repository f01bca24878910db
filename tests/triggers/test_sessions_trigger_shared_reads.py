"""Many deferred waits on one connection: one listing serves them, and one budget paces them."""

from __future__ import annotations

import asyncio
import time

import pytest

from airflow_provider_cloudos.client import shared_reads
from airflow_provider_cloudos.client.async_client import AsyncCloudOSClient
from airflow_provider_cloudos.client.shared_reads import SOLO_ASKS, connection_key
from airflow_provider_cloudos.client.transport import budget_for
from airflow_provider_cloudos.triggers.sessions import CloudOSSessionTrigger

WAITS = 20


@pytest.fixture(autouse=True)
def wide_rounds(monkeypatch: pytest.MonkeyPatch) -> None:
    """Waits started together look within a round of each other however slow this machine is
    (each reads its connection first, which takes longer on a loaded one)."""
    monkeypatch.setattr(shared_reads, "GATHER_SECONDS", 0.15)


async def _events(triggers: list[CloudOSSessionTrigger]) -> list[dict]:
    async def first(trigger: CloudOSSessionTrigger) -> dict:
        async for event in trigger.run():
            return dict(event.payload)
        raise AssertionError("no event")

    return list(await asyncio.wait_for(asyncio.gather(*(first(t) for t in triggers)), timeout=30))


def _trigger(session_id: str, **overrides) -> CloudOSSessionTrigger:
    options = {"session_id": session_id, "end_time": time.time() + 20, "poll_interval": 0.5, **overrides}
    return CloudOSSessionTrigger(**options)


def test_waits_on_one_connection_are_served_by_one_listing(cloudos_conn):
    sessions = [cloudos_conn.add_session(name=f"s{n}", status="ready")["_id"] for n in range(WAITS)]
    cloudos_conn.counters.reset()

    events = asyncio.run(_events([_trigger(sid) for sid in sessions]))

    assert [(e["status"], e["session_id"], e["session_status"]) for e in events] == [
        ("success", sid, "running") for sid in sessions
    ]
    # The first waits to look read their own (too few to list for); the rest came from listings.
    assert SOLO_ASKS <= cloudos_conn.counters.requests("get") < WAITS // 2
    assert cloudos_conn.counters.requests("list") >= 1


def test_a_wait_for_pause_is_listed_among_the_paused_sessions(cloudos_conn):
    sessions = [cloudos_conn.add_session(name=f"p{n}", status="aborted")["_id"] for n in range(WAITS)]
    cloudos_conn.counters.reset()

    events = asyncio.run(_events([_trigger(sid, target_statuses=["paused"]) for sid in sessions]))

    assert {e["session_status"] for e in events} == {"paused"}
    assert SOLO_ASKS <= cloudos_conn.counters.requests("get") < WAITS // 2
    assert cloudos_conn.counters.requests("list") >= 1


@pytest.mark.asyncio
async def test_a_429_holds_every_request_of_the_connection(cloudos_conn):
    session = cloudos_conn.add_session(name="limited", status="ready")["_id"]
    cloudos_conn.faults.fail_next("get", status=429, retry_after=3)
    key = connection_key(cloudos_conn.url, cloudos_conn.workspace_id, cloudos_conn.api_key)
    async with AsyncCloudOSClient(
        cloudos_conn.url, cloudos_conn.api_key, cloudos_conn.workspace_id
    ) as client:
        with pytest.raises(Exception, match="429"):
            await client.get_session(session, max_attempts=1)
        held_for = budget_for(key, 20.0).turn()

    assert 2.5 < held_for <= 3.0  # the next request of any wait on the connection: after Retry-After
