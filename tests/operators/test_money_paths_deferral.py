"""What a session task hands its trigger when it defers: everything the triggerer needs to stop the
spending on its own (pause on timeout and on kill, saving the data), the status the task last saw,
and a log line that says what it waits for and where to look."""

from __future__ import annotations

import pytest
from airflow.providers.common.compat.sdk import TaskDeferred
from operator_helpers import FAST, make_context, trigger_kwargs

from airflow_provider_cloudos.operators.sessions import (
    CloudOSResumeSessionOperator,
    CloudOSStopSessionOperator,
)
from airflow_provider_cloudos.testing import StateTimings

#: Nothing changes state on its own while a test looks at it.
STILL = StateTimings(scheduled=600, setup=600, initialising=600, aborting=600, resume_initialising=600)


@pytest.fixture
def still(cloudos_conn):
    cloudos_conn.set_timings(STILL)
    return cloudos_conn


def test_a_resume_defers_with_the_pause_that_saves_the_data_and_the_status_it_saw(
    still, log_messages, monkeypatch
):
    monkeypatch.setenv("AIRFLOW_CONN_CLOUDOS_OTHER", still.connection_json())
    paused = still.add_session(name="resumable", status="aborted", cost=2.0)["_id"]
    task = CloudOSResumeSessionOperator(
        task_id="resume",
        session_id=paused,
        deferrable=True,
        max_cost_usd=50,
        cloudos_conn_id="cloudos_other",
        **FAST,
    )
    with pytest.raises(TaskDeferred) as deferred:
        task.execute(make_context())
    kwargs = trigger_kwargs(deferred.value)
    assert kwargs["upload_on_close"] is True
    assert kwargs["last_status"] == "initialising"
    assert kwargs["max_cost_usd"] == 50.0
    assert kwargs["cloudos_conn_id"] == "cloudos_other"
    page = f"{still.url}/app/data-science/interactive-analysis/view/{paused}"
    assert f"Session {paused} is initialising; deferring until it is running (at most 20s): {page}" in (
        log_messages()
    )


def test_a_stop_defers_without_a_cost_guard_and_without_pausing_again(still, log_messages):
    running = still.add_session(name="busy", status="ready", cost=100.0)["_id"]
    task = CloudOSStopSessionOperator(task_id="stop", session_id=running, deferrable=True, **FAST)
    with pytest.raises(TaskDeferred) as deferred:
        task.execute(make_context())
    kwargs = trigger_kwargs(deferred.value)
    assert kwargs["target_statuses"] == ["paused"]
    assert (kwargs["stop_on_timeout"], kwargs["stop_on_kill"]) == (False, False)
    assert "max_cost_usd" not in kwargs
    assert kwargs["last_status"] == "stopping"
