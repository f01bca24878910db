"""What the session trigger's events and log lines say, and what a kill or a cancellation pauses.

The waits run the trigger itself against the simulator. Where the exact moment matters (a poll at
the deadline, the elapsed time in an event), the trigger's clock and sleeps are replaced by a clock
that moves only when the trigger sleeps, so no test depends on how fast the machine is.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from types import SimpleNamespace
from typing import Any

import pytest
from test_sessions_trigger_deadlines import STUCK, only_event, trigger
from trigger_clock import TriggerClock

from airflow_provider_cloudos import compat
from airflow_provider_cloudos.testing import CloudOSSimulator

BROKEN = json.dumps({"conn_type": "cloudos", "host": "ftp://nowhere"})


def said(lines: list[str], text: str) -> list[str]:
    """The log lines whose message starts with ``text`` (after the level and logger name, if any)."""
    return [line for line in lines if re.search(rf"(^|\s){re.escape(text)}", line)]


@pytest.fixture
def stuck(cloudos_conn: CloudOSSimulator) -> CloudOSSimulator:
    cloudos_conn.set_timings(STUCK)
    return cloudos_conn


@pytest.fixture
def stepped(stuck, monkeypatch) -> TriggerClock:
    """Time moves only by the trigger's own sleeps."""
    from airflow_provider_cloudos.triggers import sessions

    return TriggerClock(stuck, sleeps_move_time=True, max_sleeps=20).install(sessions, monkeypatch)


# --- the events -------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_an_unusable_connection_ends_the_wait_with_one_error_event(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_BROKEN", BROKEN)
    sid = "a" * 24
    started = time.time()
    event = await only_event(trigger(sid, cloudos_conn_id="broken", started_at=started))
    assert event["status"] == "error"
    assert event["session_id"] == sid
    assert event["message"].startswith("Cannot use connection 'broken': ")
    assert (event["session_status"], event["api_status"]) == (None, None)
    assert 0 <= event["elapsed"] < 60, "counted from when the task started waiting"


@pytest.mark.asyncio
async def test_a_wait_ends_exactly_at_its_deadline_with_the_elapsed_time_to_the_millisecond(stepped):
    session = stepped.sim.add_session(name="slow", status="setup")
    waiting = trigger(
        session["_id"], poll_interval=10, end_time=stepped.now + 20, started_at=stepped.now - 0.012345
    )
    event = await only_event(waiting)
    assert event["status"] == "timeout"
    assert event["session_id"] == session["_id"]
    assert event["elapsed"] == 20.012
    assert stepped.sleeps == [(10, 0), (10, 1)], "a first interval, then one poll per interval"
    assert stepped.sim.counters.requests("get", session["_id"]) == 2, "the last poll is at the deadline"


@pytest.mark.asyncio
async def test_reaching_the_target_says_so(stuck):
    session = stuck.add_session(name="up", status="ready")
    event = await only_event(trigger(session["_id"], target_statuses=["running"]))
    assert event["status"] == "success"
    page = f"{stuck.url}/app/data-science/interactive-analysis/view/{session['_id']}"
    assert event["message"] == f"Session {session['_id']} is running ({page})"


@pytest.mark.asyncio
async def test_the_failures_given_end_the_wait_and_only_those(stuck):
    paused = stuck.add_session(name="paused", status="aborted")
    event = await only_event(
        trigger(
            paused["_id"], target_statuses=["running"], failure_statuses=["paused"], end_time=time.time() + 2
        )
    )
    assert event["status"] == "failure"


# --- what the log says --------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_an_unanswered_poll_is_logged_and_the_last_error_ends_the_message(stuck, log_lines):
    session = stuck.add_session(name="down", status="setup")
    stuck.faults.only_endpoints = {"get"}
    stuck.faults.error_rate = 1.0
    waiting = trigger(session["_id"], end_time=time.time() + 0.3)
    event = await only_event(waiting)
    assert event["status"] == "error"
    warnings = said(log_lines(), "CloudOS did not answer; the wait goes on: ")
    assert warnings, log_lines()
    error_text = (
        warnings[-1].split("CloudOS did not answer; the wait goes on: ", 1)[1].split(" log_level=")[0]
    )
    assert "503" in error_text
    assert event["message"].endswith(error_text)


@pytest.mark.asyncio
async def test_a_failed_pause_at_the_deadline_is_logged_with_the_reason_and_the_error(stuck, log_lines):
    session = stuck.add_session(name="stuck", status="setup")
    stuck.faults.fail_next("abort", 403)
    event = await only_event(trigger(session["_id"], end_time=time.time() + 0.1, stop_on_timeout=True))
    assert (event["status"], event["stopped"]) == ("timeout", False)
    failed = said(log_lines(), f"Could not pause session {session['_id']} after the wait timed out: ")
    assert len(failed) == 1, log_lines()
    assert "403" in failed[0]


# --- kills and cancellations ----------------------------------------------------------------------------


def attach_task(waiting: Any) -> Any:
    waiting.task_instance = SimpleNamespace(dag_id="dag", task_id="task", run_id="run", map_index=-1)
    return waiting


@pytest.mark.asyncio
async def test_a_kill_pauses_the_session_and_says_why(stuck, log_lines):
    session = stuck.add_session(name="killed", status="setup")
    await trigger(session["_id"], stop_on_kill=True).on_kill()
    assert stuck.session(session["_id"])["status"] in ("aborting", "aborted")
    assert said(log_lines(), f"Paused session {session['_id']} because the deferred task was killed")


@pytest.mark.asyncio
async def test_a_kill_asks_about_this_triggers_task_and_leaves_a_task_deferred_elsewhere(
    stuck, monkeypatch, log_lines
):
    session = stuck.add_session(name="moved", status="setup")
    waiting = attach_task(trigger(session["_id"], stop_on_kill=True))
    asked: list[Any] = []

    async def state_of(about: Any) -> str | None:
        asked.append(about)
        return "deferred" if about is waiting else None

    monkeypatch.setattr(compat, "_task_state", state_of)
    await waiting.on_kill()
    assert asked == [waiting]
    assert stuck.counters.requests("abort") == 0
    assert said(log_lines(), f"Task is still deferred elsewhere; not pausing session {session['_id']}")


@pytest.mark.asyncio
async def test_a_kill_that_cannot_reach_cloudos_is_logged_not_raised(monkeypatch, log_lines):
    monkeypatch.setenv("AIRFLOW_CONN_BROKEN", BROKEN)
    sid = "b" * 24
    await trigger(sid, stop_on_kill=True, cloudos_conn_id="broken").on_kill()
    failed = said(log_lines(), f"Could not pause session {sid} after the deferred task was killed: ")
    assert len(failed) == 1, log_lines()
    assert "the CloudOS connection has no API key" in failed[0]


@pytest.mark.asyncio
@pytest.mark.parametrize(("stop_on_kill", "paused"), [(True, True), (False, False)])
async def test_a_cancellation_of_a_task_that_is_gone_pauses_only_when_told_to(
    stuck, monkeypatch, log_lines, stop_on_kill, paused
):
    """Before Airflow 3.3 a kill arrives as a cancellation; the task's state says it is gone."""
    monkeypatch.setattr(compat, "trigger_has_on_kill", lambda: False)
    monkeypatch.setattr(compat, "_task_identity", lambda about: ("dag", "task", "run", -1))

    async def gone(about: Any) -> str:
        return "failed"

    monkeypatch.setattr(compat, "_task_state", gone)
    session = stuck.add_session(name="cancelled", status="setup")
    waiting = attach_task(trigger(session["_id"], stop_on_kill=stop_on_kill))
    task = asyncio.create_task(only_event(waiting))
    for _ in range(2000):  # until the first poll: the wait is under way (bounded at about 10 s)
        if stuck.counters.requests("get", session["_id"]):
            break
        await asyncio.sleep(0.005)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert (stuck.session(session["_id"])["status"] in ("aborting", "aborted")) is paused
    pause_logged = said(log_lines(), f"Paused session {session['_id']} because the deferred task was killed")
    assert bool(pause_logged) is paused
