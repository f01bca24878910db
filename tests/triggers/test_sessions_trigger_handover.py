"""What a session trigger keeps from the task that deferred to it: its defaults, its runtime guard,
its workspace and the spacing of its polls up to the deadline.

A trigger is rebuilt on the triggerer from ``serialize()``; anything lost or changed on the way
(a guard that no longer fires, a workspace that falls back to the connection's, a default that
pauses sessions nobody asked to pause) changes what a user pays for. The waits run the trigger
against the simulator; where the moment of a poll matters the trigger's clock moves only when it
sleeps (``TriggerClock``), so no test depends on how fast the machine is.
"""

from __future__ import annotations

import json

import pytest
from test_sessions_trigger_deadlines import STUCK, only_event, trigger
from trigger_clock import TriggerClock

from airflow_provider_cloudos.testing import CloudOSSimulator
from airflow_provider_cloudos.triggers.sessions import CloudOSSessionTrigger

SESSION_ID = "c" * 24


@pytest.fixture
def manual_time(cloudos_conn: CloudOSSimulator, monkeypatch: pytest.MonkeyPatch) -> TriggerClock:
    """The trigger's clock, moved only by its own sleeps; sessions stay where they are put."""
    from airflow_provider_cloudos.triggers import sessions

    cloudos_conn.set_timings(STUCK)
    return TriggerClock(cloudos_conn, sleeps_move_time=True, max_sleeps=100).install(sessions, monkeypatch)


def test_a_trigger_built_with_only_its_required_arguments_serializes_its_documented_defaults() -> None:
    """Waits for running every 30 s, pauses nothing on its own, and saves data if it pauses."""
    _, kwargs = CloudOSSessionTrigger(session_id=SESSION_ID, end_time=1_900_000_000).serialize()
    assert kwargs["poll_interval"] == 30.0
    assert kwargs["stop_on_kill"] is False
    assert kwargs["stop_on_timeout"] is False
    assert kwargs["upload_on_close"] is True
    assert kwargs["target_statuses"] == ["running"]
    assert kwargs["failure_statuses"] is None
    assert "max_cost_usd" not in kwargs
    assert "max_runtime_seconds" not in kwargs


def test_a_runtime_guard_survives_the_hand_over_to_the_triggerer() -> None:
    original = CloudOSSessionTrigger(session_id=SESSION_ID, end_time=1_900_000_000, max_runtime_seconds=7200)
    _, kwargs = original.serialize()
    assert kwargs["max_runtime_seconds"] == 7200
    assert CloudOSSessionTrigger(**kwargs).serialize() == original.serialize()


@pytest.mark.asyncio
async def test_the_runtime_guard_ends_the_wait_once_the_session_ran_that_long(
    manual_time: TriggerClock,
) -> None:
    session = manual_time.sim.add_session(name="long", status="setup", running_seconds=7200)
    waiting = trigger(
        session["_id"], poll_interval=10, end_time=manual_time.now + 20, max_runtime_seconds=7200
    )
    event = await only_event(waiting)
    assert event["status"] == "guard"
    assert event["reason"] == "runtime 2h reached the limit of 2h"


@pytest.mark.asyncio
async def test_the_trigger_polls_in_the_workspace_the_task_gave_it(
    cloudos_conn: CloudOSSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A connection without a workspace is enough when the task named one."""
    monkeypatch.setenv(
        "AIRFLOW_CONN_CLOUDOS_NO_WORKSPACE",
        json.dumps({"conn_type": "cloudos", "host": cloudos_conn.url, "password": cloudos_conn.api_key}),
    )
    session = cloudos_conn.add_session(name="ready-one", status="ready")
    event = await only_event(
        trigger(
            session["_id"], cloudos_conn_id="cloudos_no_workspace", workspace_id=cloudos_conn.workspace_id
        )
    )
    assert event["status"] == "success", event["message"]
    assert event["session_status"] == "running"


@pytest.mark.asyncio
async def test_the_last_sleep_before_the_deadline_is_cut_to_end_exactly_there(
    manual_time: TriggerClock,
) -> None:
    """Polls every 10 s with 15 s left: the second sleep is 5 s, so the last look is at the deadline."""
    session = manual_time.sim.add_session(name="slow", status="setup")
    started = manual_time.now
    event = await only_event(trigger(session["_id"], poll_interval=10, end_time=started + 15))
    assert event["status"] == "timeout"
    assert manual_time.sleeps == [(10, 0), (5, 1)]
    assert manual_time.now == started + 15
