"""The session trigger's deadline, its guard and its pause: what decides whether a session keeps billing.

These run the trigger itself against the simulator (the operator tests reach the same paths only
through a deferral). Each one waits on the trigger's single event, bounded by ``LIMIT``.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from airflow_provider_cloudos.testing import StateTimings
from airflow_provider_cloudos.triggers.sessions import CloudOSSessionTrigger

#: A session put in ``setup`` (or ``aborting``) stays there for the whole test.
STUCK = StateTimings(scheduled=0.0, setup=60.0, aborting=60.0)
#: Bounds a broken test; every test here ends in well under a second when the trigger is right.
LIMIT = 10.0


def trigger(session_id: str, **overrides: Any) -> CloudOSSessionTrigger:
    options: dict[str, Any] = {"session_id": session_id, "end_time": time.time() + 20, "poll_interval": 0.02}
    options.update(overrides)
    return CloudOSSessionTrigger(**options)


async def only_event(waiting: CloudOSSessionTrigger) -> dict[str, Any]:
    async def collect() -> list[dict[str, Any]]:
        return [event.payload async for event in waiting.run()]

    events = await asyncio.wait_for(collect(), timeout=LIMIT)
    assert len(events) == 1, events
    return events[0]


@pytest.fixture
def stuck(cloudos_conn):
    cloudos_conn.set_timings(STUCK)
    return cloudos_conn


@pytest.fixture
def costly(stuck) -> dict[str, Any]:
    """A session still in setup whose cost has reached 5 USD."""
    session = stuck.add_session(name="costly", status="setup")
    stuck.set_cost(session["_id"], 5.0)
    return session


@pytest.mark.asyncio
async def test_the_cost_guard_ends_the_wait_and_pauses_the_session(stuck, costly, log_messages):
    event = await only_event(trigger(costly["_id"], max_cost_usd=5, stop_on_timeout=True))
    assert event["status"] == "guard"
    assert event["stopped"] is True
    assert event["reason"] == "cost $5.00 reached the limit of $5.00"
    assert event["message"].startswith(
        f"Session {costly['_id']} cost $5.00 reached the limit of $5.00 while waiting for running ("
    )
    assert event["summary"]["id"] == costly["_id"]
    assert costly["_id"] in event["summary"]["url"]
    assert event["message"].endswith(f"({event['summary']['url']})")
    assert stuck.abort_requests == [(costly["_id"], True, False)]
    assert f"Paused session {costly['_id']} because {event['reason']}" in log_messages()


@pytest.mark.asyncio
async def test_the_guard_pauses_nothing_unless_asked_to(stuck, costly):
    event = await only_event(trigger(costly["_id"], max_cost_usd=5))
    assert event["status"] == "guard"
    assert event["stopped"] is False
    assert stuck.counters.requests("abort") == 0


@pytest.mark.asyncio
async def test_a_session_under_its_cost_limit_is_waited_for(stuck, costly):
    event = await only_event(trigger(costly["_id"], max_cost_usd=5.01, end_time=time.time() + 0.2))
    assert event["status"] == "timeout"


@pytest.mark.asyncio
async def test_the_pause_saves_the_data_only_when_asked_to(stuck):
    session = stuck.add_session(name="slow", status="setup")
    event = await only_event(
        trigger(session["_id"], end_time=time.time() + 0.1, stop_on_timeout=True, upload_on_close=False)
    )
    assert event["stopped"] is True
    assert stuck.abort_requests == [(session["_id"], False, False)]


@pytest.mark.asyncio
async def test_a_long_poll_interval_does_not_carry_the_wait_past_its_deadline(stuck):
    session = stuck.add_session(name="slow", status="setup")
    started = time.time()
    event = await only_event(
        trigger(session["_id"], end_time=started + 0.3, poll_interval=3600, stop_on_timeout=True)
    )
    assert event["status"] == "timeout"
    assert event["stopped"] is True
    assert stuck.counters.requests("get", session["_id"]) == 1  # once, at the deadline


@pytest.mark.asyncio
async def test_the_timeout_message_says_how_long_and_the_last_status(stuck):
    session = stuck.add_session(name="slow", status="setup")
    event = await only_event(trigger(session["_id"], end_time=time.time() + 0.1, started_at=time.time() - 60))
    assert event["status"] == "timeout"
    assert event["message"].startswith(
        f"Session {session['_id']} did not become running within 1m; last status: setup ("
    )
    assert 60 <= event["elapsed"] < 60 + LIMIT


@pytest.mark.asyncio
async def test_a_session_already_pausing_at_the_deadline_counts_as_not_paused_by_the_trigger(
    stuck, log_messages
):
    """CloudOS refuses a second pause; the trigger says it paused nothing and logs no error."""
    session = stuck.add_session(name="pausing", status="aborting")
    event = await only_event(trigger(session["_id"], end_time=time.time() + 0.1, stop_on_timeout=True))
    assert event["status"] == "timeout"
    assert event["stopped"] is False
    assert not any("Could not pause" in message for message in log_messages())


@pytest.mark.asyncio
async def test_a_failed_pause_is_logged_and_reported_as_not_paused(stuck, log_messages):
    session = stuck.add_session(name="slow", status="setup")
    stuck.faults.fail_next("abort", status=400)
    event = await only_event(trigger(session["_id"], end_time=time.time() + 0.1, stop_on_timeout=True))
    assert event["stopped"] is False
    assert any(
        f"Could not pause session {session['_id']} after the wait timed out" in message
        for message in log_messages()
    )


@pytest.fixture
def fast_retries(monkeypatch):
    """The async client's backoff made tiny, so transient errors take milliseconds."""
    from airflow_provider_cloudos.client import async_client
    from airflow_provider_cloudos.client.transport import RetryPolicy

    original = async_client.AsyncCloudOSClient.__init__

    def init(self, *args, **kwargs):
        kwargs["retry_policy"] = RetryPolicy(backoff_base=0.01, backoff_max=0.05, retry_after_max=1.5)
        original(self, *args, **kwargs)

    monkeypatch.setattr(async_client.AsyncCloudOSClient, "__init__", init)


@pytest.mark.asyncio
async def test_errors_until_the_deadline_still_pause_the_session(stuck, fast_retries):
    session = stuck.add_session(name="unreachable", status="setup")
    stuck.faults.only_endpoints = {"get"}
    stuck.faults.error_rate = 1.0
    event = await only_event(trigger(session["_id"], end_time=time.time() + 0.2, stop_on_timeout=True))
    assert event["status"] == "error"
    assert event["stopped"] is True
    assert stuck.abort_requests == [(session["_id"], True, False)]


@pytest.mark.asyncio
async def test_an_answer_after_errors_makes_the_deadline_a_timeout_not_an_error(stuck, fast_retries):
    """The error event means CloudOS kept failing; once it answered again, the wait simply ran out."""
    session = stuck.add_session(name="flaky", status="setup")
    stuck.faults.fail_next("get", 503, count=4)
    event = await only_event(trigger(session["_id"], end_time=time.time() + 0.5))
    assert stuck.faults.pending_one_shots == 0
    assert event["status"] == "timeout"
