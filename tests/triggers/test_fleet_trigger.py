"""The batch trigger (CloudOSFleetTrigger) and the guards of the single-session trigger."""

from __future__ import annotations

import asyncio
import json
import re
import time
from typing import Any

import pytest
from trigger_clock import TriggerClock

from airflow_provider_cloudos.client.transport import RetryPolicy
from airflow_provider_cloudos.core.errors import CloudOSValidationError
from airflow_provider_cloudos.testing import CloudOSSimulator, ManualClock, StateTimings
from airflow_provider_cloudos.triggers.fleet import CloudOSFleetTrigger
from airflow_provider_cloudos.triggers.sessions import CloudOSSessionTrigger

BATCH_CLASSPATH = "airflow_provider_cloudos.triggers.fleet.CloudOSFleetTrigger"
STILL = StateTimings(scheduled=600, setup=600, initialising=600, aborting=0.05, resume_initialising=600)


async def first_event(trigger: Any, limit: float = 20.0) -> dict:
    async def collect() -> list[dict]:
        return [event.payload async for event in trigger.run()]

    events = await asyncio.wait_for(collect(), timeout=limit)
    assert len(events) == 1, events
    return events[0]


def batch(session_ids: list[str], **overrides: Any) -> CloudOSFleetTrigger:
    options: dict[str, Any] = {
        "session_ids": session_ids,
        "end_time": time.time() + 20,
        "poll_interval": 0.02,
    }
    options.update(overrides)
    return CloudOSFleetTrigger(**options)


def single(session_id: str, **overrides: Any) -> CloudOSSessionTrigger:
    options: dict[str, Any] = {"session_id": session_id, "end_time": time.time() + 20, "poll_interval": 0.02}
    options.update(overrides)
    return CloudOSSessionTrigger(**options)


def pausing(sim: CloudOSSimulator, count: int, **kwargs: Any) -> list[str]:
    """``count`` sessions that have just been asked to pause."""
    return [sim.add_session(name=f"p{i}", status="aborting", **kwargs)["_id"] for i in range(count)]


@pytest.fixture
def fast_retries(monkeypatch):
    from airflow_provider_cloudos.client import async_client

    original = async_client.AsyncCloudOSClient.__init__

    def init(self, *args, **kwargs):
        kwargs["retry_policy"] = RetryPolicy(backoff_base=0.01, backoff_max=0.05, retry_after_max=1.5)
        original(self, *args, **kwargs)

    monkeypatch.setattr(async_client.AsyncCloudOSClient, "__init__", init)


# --- the batch trigger ----------------------------------------------------------------------------


def test_batch_serializes_primitives_only_and_round_trips(sentinel_api_key):
    trigger = CloudOSFleetTrigger(
        session_ids=["a" * 24, "b" * 24, "a" * 24],
        end_time=1_900_000_000.5,
        cloudos_conn_id="my_cloudos",
        workspace_id="c" * 24,
        target_statuses=["aborted", "terminated"],
        failure_statuses=[],
        poll_interval=15,
        started_at=1_899_999_000.0,
        max_concurrency=4,
    )
    classpath, kwargs = trigger.serialize()
    assert classpath == BATCH_CLASSPATH
    assert kwargs == {
        "session_ids": ["a" * 24, "b" * 24],
        "end_time": 1_900_000_000.5,
        "cloudos_conn_id": "my_cloudos",
        "workspace_id": "c" * 24,
        "target_statuses": ["paused", "terminated"],
        "failure_statuses": [],
        "poll_interval": 15.0,
        "started_at": 1_899_999_000.0,
        "max_concurrency": 4,
    }
    assert CloudOSFleetTrigger(**kwargs).serialize() == trigger.serialize()
    assert sentinel_api_key not in repr(kwargs)


def test_batch_failure_statuses_default_to_terminated_unless_targeted():
    assert batch(["a" * 24]).failure_statuses == ["terminated"]
    assert batch(["a" * 24], target_statuses=["paused", "terminated"]).failure_statuses == []


@pytest.mark.parametrize(
    ("overrides", "parameter"),
    [
        ({"session_ids": ["a" * 24, "nope"]}, "session_ids"),
        ({"target_statuses": ["asleep"]}, "target_status"),
        ({"failure_statuses": ["exploded"]}, "failure_statuses"),
        ({"max_concurrency": 0}, "max_concurrency"),
        ({"max_concurrency": True}, "max_concurrency"),
    ],
)
def test_batch_refuses_bad_arguments_naming_them(overrides, parameter):
    options = {"session_ids": ["a" * 24], "end_time": 0, **overrides}
    with pytest.raises(CloudOSValidationError) as error:
        CloudOSFleetTrigger(**options)
    assert error.value.parameter == parameter


@pytest.mark.asyncio
async def test_batch_waits_until_every_session_is_paused(cloudos_conn, log_messages):
    ids = pausing(cloudos_conn, 30)
    cloudos_conn.counters.reset()
    event = await first_event(batch(ids))
    assert event["status"] == "success"
    assert event["reached"] == dict.fromkeys(ids, "paused")
    assert event["failed"] == {}
    assert event["pending"] == {}
    assert event["message"] == "All 30 sessions are paused"
    assert all(cloudos_conn.session(sid)["status"] == "aborted" for sid in ids)
    assert cloudos_conn.counters.connections_accepted <= 8, "one pooled client, bounded concurrency"
    progress = [m for m in log_messages() if " of 30 sessions paused after " in m]
    assert progress
    assert progress[-1].endswith("; waiting for 0")


@pytest.mark.asyncio
async def test_batch_polls_only_the_sessions_still_pending(cloudos_conn):
    cloudos_conn.set_timings(StateTimings(aborting=600))
    slow = cloudos_conn.add_session(name="slow", status="aborting")["_id"]
    done = [cloudos_conn.add_session(name=f"done{i}", status="aborted")["_id"] for i in range(9)]
    cloudos_conn.counters.reset()
    event = await first_event(batch([slow, *done], end_time=time.time() + 0.3))
    assert event["status"] == "timeout"
    assert cloudos_conn.counters.requests("list") == 1, "the first round lists the ten sessions at once"
    assert cloudos_conn.counters.requests("get", slow) >= 1, "the slow session was polled again"
    for sid in done:
        assert cloudos_conn.counters.requests("get", sid) == 0, "a settled session is not polled again"
    assert event["pending"] == {slow: "stopping"}
    assert event["message"].startswith("1 of 10 sessions did not become paused within ")
    assert event["message"].endswith(f": {slow} (stopping)")


@pytest.mark.asyncio
async def test_batch_reports_failures_with_the_reason_for_each(cloudos_conn):
    ids = pausing(cloudos_conn, 2)
    gone = cloudos_conn.add_session(name="gone", status="terminated")["_id"]
    missing = "d" * 24
    event = await first_event(batch([*ids, gone, missing]))
    assert event["status"] == "failure"
    assert event["reached"] == dict.fromkeys(ids, "paused")
    assert event["failed"][gone] == "it is terminated"
    assert event["failed"][missing].startswith("CloudOS refused to report it:")
    assert "404" in event["failed"][missing]
    assert event["message"].startswith("2 of 4 sessions did not become paused: ")


@pytest.mark.asyncio
async def test_batch_survives_transient_errors(cloudos_conn, fast_retries):
    ids = pausing(cloudos_conn, 5)
    # The first round's listing fails, so each session is read on its own, and each first read fails.
    cloudos_conn.faults.fail_next("list", 503)
    cloudos_conn.faults.fail_next("get", 503, count=5)
    event = await first_event(batch(ids))
    assert event["status"] == "success"
    assert cloudos_conn.faults.pending_one_shots == 0


@pytest.mark.asyncio
async def test_batch_timeout_mentions_the_last_error(cloudos_conn, fast_retries):
    ids = pausing(cloudos_conn, 2)
    cloudos_conn.faults.only_endpoints = {"get"}
    cloudos_conn.faults.error_rate = 1.0
    event = await first_event(batch(ids, end_time=time.time() + 0.2))
    assert event["status"] == "timeout"
    assert "last error:" in event["message"]
    assert event["pending"] == dict.fromkeys(ids)


@pytest.mark.asyncio
async def test_batch_with_an_unusable_connection_is_an_error(monkeypatch):
    monkeypatch.delenv("AIRFLOW_CONN_CLOUDOS_DEFAULT", raising=False)
    monkeypatch.setenv("AIRFLOW_CONN_BROKEN", '{"conn_type": "cloudos", "host": "ftp://nowhere"}')
    event = await first_event(batch(["a" * 24], cloudos_conn_id="broken"))
    assert event["status"] == "error"
    assert event["message"].startswith("Cannot use connection 'broken'")


# --- guards on the single-session trigger ------------------------------------------------------------


def test_guard_kwargs_are_serialized_only_when_set():
    _, plain = single("a" * 24).serialize()
    assert "max_cost_usd" not in plain
    assert "max_runtime_seconds" not in plain
    guarded = single("a" * 24, max_cost_usd=50, max_runtime_seconds=7200)
    _, kwargs = guarded.serialize()
    assert (kwargs["max_cost_usd"], kwargs["max_runtime_seconds"]) == (50.0, 7200.0)
    assert CloudOSSessionTrigger(**kwargs).serialize() == guarded.serialize()


@pytest.mark.parametrize(
    ("overrides", "parameter"),
    [({"max_cost_usd": 0}, "max_cost_usd"), ({"max_runtime_seconds": -1}, "max_runtime_seconds")],
)
def test_bad_guards_are_refused_naming_them(overrides, parameter):
    with pytest.raises(CloudOSValidationError) as error:
        single("a" * 24, **overrides)
    assert error.value.parameter == parameter


@pytest.mark.asyncio
async def test_the_cost_guard_fires_when_the_cost_reaches_it(cloudos_conn):
    sid = cloudos_conn.add_session(name="watched", status="ready", cost=10)["_id"]
    task = asyncio.create_task(first_event(single(sid, target_statuses=["paused"], max_cost_usd=50)))
    while cloudos_conn.counters.requests("get") < 3 and not task.done():  # checked below the limit
        await asyncio.sleep(0.01)
    assert not task.done()
    cloudos_conn.set_cost(sid, 50.2)
    event = await task
    assert event["status"] == "guard"
    assert event["reason"] == "cost $50.20 reached the limit of $50.00"
    assert event["message"] == (
        f"Session {sid} cost $50.20 reached the limit of $50.00 while waiting for paused "
        f"({cloudos_conn.url}/app/data-science/interactive-analysis/view/{sid})"
    )
    assert event["summary"]["id"] == sid
    assert event["summary"]["cost_usd"] >= 50.2
    assert event["stopped"] is False
    assert cloudos_conn.counters.requests("abort") == 0


@pytest.mark.asyncio
async def test_the_runtime_guard_fires_at_the_exact_runtime(monkeypatch):
    clock = ManualClock()
    with CloudOSSimulator(timings=STILL, clock=clock) as sim:
        monkeypatch.setenv("AIRFLOW_CONN_CLOUDOS_DEFAULT", sim.connection_json())
        sid = sim.add_session(name="long", status="ready", running_seconds=7190)["_id"]
        task = asyncio.create_task(
            first_event(single(sid, target_statuses=["paused"], max_runtime_seconds=7200))
        )
        for step in (0, 9):  # the trigger looks at 7190 s, then at 7199 s: both below the guard
            clock.advance(step)
            seen = sim.counters.requests("get")
            while sim.counters.requests("get") <= seen + 1 and not task.done():
                await asyncio.sleep(0.005)
            assert not task.done()
        clock.advance(1)
        event = await task
    assert event["status"] == "guard"
    assert event["reason"] == "runtime 2h reached the limit of 2h"
    assert event["summary"]["runtime_seconds"] == 7200


@pytest.mark.asyncio
async def test_a_guard_that_fires_pauses_the_session_when_the_task_started_it(cloudos_conn):
    cloudos_conn.set_timings(STILL)
    sid = cloudos_conn.add_session(name="starting", status="setup", cost=80)["_id"]
    event = await first_event(single(sid, max_cost_usd=50, stop_on_timeout=True))
    assert event["status"] == "guard"
    assert event["stopped"] is True
    assert cloudos_conn.session(sid)["status"] in ("aborting", "aborted")


@pytest.mark.asyncio
async def test_reaching_the_target_wins_over_the_guard(cloudos_conn):
    sid = cloudos_conn.add_session(name="there", status="ready", cost=80)["_id"]
    event = await first_event(single(sid, max_cost_usd=50, stop_on_timeout=True))
    assert event["status"] == "success"
    assert cloudos_conn.counters.requests("abort") == 0


@pytest.mark.asyncio
async def test_a_failure_status_wins_over_the_guard(cloudos_conn):
    sid = cloudos_conn.add_session(name="gone", status="terminated", cost=80)["_id"]
    event = await first_event(single(sid, max_cost_usd=50))
    assert event["status"] == "failure"


# --- the first pause and the event's fields, on a frozen clock ----------------------------------------


@pytest.fixture
def frozen(cloudos_conn, monkeypatch) -> TriggerClock:
    """The clock stands still at the test's start; each sleep is recorded and returns at once."""
    from airflow_provider_cloudos.triggers import fleet

    return TriggerClock(cloudos_conn, sleeps_move_time=False).install(fleet, monkeypatch)


@pytest.mark.asyncio
async def test_the_batch_trigger_waits_one_interval_before_its_first_poll(cloudos_conn, frozen):
    """The task defers right after asking for the pauses: an event before the scheduler has seen the
    deferral fails the task on Airflow 3.3.2, so even sessions already paused are polled only after
    one interval."""
    ids = [cloudos_conn.add_session(name=f"done{i}", status="aborted")["_id"] for i in range(3)]
    cloudos_conn.counters.reset()
    event = await first_event(batch(ids, poll_interval=15, end_time=frozen.now + 600))
    assert event["status"] == "success"
    assert frozen.sleeps == [(15, 0)], "one pause of one interval, before any poll"
    assert (cloudos_conn.counters.requests("list"), cloudos_conn.counters.requests("get")) == (1, 0)


@pytest.mark.asyncio
async def test_the_batch_event_names_the_sessions_and_the_time_since_the_task_started(cloudos_conn, frozen):
    ids = [cloudos_conn.add_session(name=f"done{i}", status="aborted")["_id"] for i in range(2)]
    event = await first_event(batch([*ids, ids[0]], started_at=frozen.now - 0.012345))
    assert event["session_ids"] == ids, "each session once, in the order given"
    assert event["elapsed"] == 0.012, "seconds since the task started, to the millisecond"
    late = await first_event(batch(ids, started_at=frozen.now - 3725.5))
    assert late["elapsed"] == 3725.5


@pytest.mark.asyncio
async def test_a_poll_left_unanswered_is_logged_naming_the_session_and_the_error(
    cloudos_conn, fast_retries, log_lines
):
    (sid,) = pausing(cloudos_conn, 1)
    cloudos_conn.faults.fail_next("get", 503, count=5)
    event = await first_event(batch([sid]))
    assert event["status"] == "success"
    warnings = [line for line in log_lines() if "did not answer about session" in line]
    assert len(warnings) == 1, warnings
    said = (
        f"CloudOS did not answer about session {sid}; the wait goes on: CloudOS API refused GET "
        f"/api/v2/interactive-sessions/{sid} (503 Service Unavailable) after 5 attempts"
    )
    # The message starts the line, or follows the level and logger name (Airflow 2 and 3.0).
    assert re.search(rf"(^|\s){re.escape(said)}", warnings[0]), warnings[0]


def test_batch_defaults_and_explicit_failure_statuses():
    trigger = CloudOSFleetTrigger(session_ids=["a" * 24], end_time=0)
    assert trigger.poll_interval == 30.0
    assert trigger.max_concurrency >= 1
    explicit = batch(["a" * 24], failure_statuses=["terminated", "aborting"])
    assert explicit.failure_statuses == ["stopping", "terminated"]


def test_batch_takes_one_session_at_a_time_and_words_a_bad_concurrency():
    assert batch(["a" * 24], max_concurrency=1).max_concurrency == 1
    with pytest.raises(CloudOSValidationError) as error:
        batch(["a" * 24], max_concurrency=0)
    assert str(error.value) == "Invalid max_concurrency=0: expected a whole number >= 1"


@pytest.mark.asyncio
async def test_batch_progress_counts_from_when_the_task_started(cloudos_conn, frozen, log_messages):
    ids = [cloudos_conn.add_session(name=f"done{i}", status="aborted")["_id"] for i in range(2)]
    event = await first_event(batch(ids, started_at=frozen.now - 3725))
    assert event["status"] == "success"
    assert "2 of 2 sessions paused after 1h 2m 5s; waiting for 0" in log_messages()


@pytest.mark.asyncio
async def test_batch_polls_in_the_workspace_it_was_given(cloudos_conn, monkeypatch):
    """The task's workspace_id travels with the trigger: a connection without one is enough."""
    monkeypatch.setenv(
        "AIRFLOW_CONN_NO_WORKSPACE",
        json.dumps({"conn_type": "cloudos", "host": cloudos_conn.url, "password": cloudos_conn.api_key}),
    )
    ids = pausing(cloudos_conn, 2)
    event = await first_event(
        batch(ids, cloudos_conn_id="no_workspace", workspace_id=cloudos_conn.workspace_id)
    )
    assert event["status"] == "success", event["message"]
