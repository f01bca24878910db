from __future__ import annotations

import time

import pendulum
import pytest
from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException, TaskDeferred
from operator_helpers import FAST, make_context, run_trigger, trigger_kwargs

from airflow_provider_cloudos.links import CloudOSSessionLink
from airflow_provider_cloudos.operators.sessions import (
    CloudOSCreateSessionOperator,
    CloudOSStopSessionOperator,
)
from airflow_provider_cloudos.testing import StateTimings

SLOW_PAUSE = StateTimings(aborting=60.0)


def stop(session_id: str, **kwargs) -> CloudOSStopSessionOperator:
    options = {"task_id": "stop", "session_id": session_id, **FAST}
    options.update(kwargs)
    return CloudOSStopSessionOperator(**options)


def test_pauses_a_running_session_and_waits_until_paused(cloudos_conn, log_messages):
    session = cloudos_conn.add_session(name="busy", status="ready")
    context = make_context()
    assert stop(session["_id"]).execute(context) == session["_id"]
    assert cloudos_conn.session(session["_id"])["status"] == "aborted"
    assert cloudos_conn.abort_requests == [(session["_id"], True, False)]
    assert context["ti"].last("session_id") == session["_id"]
    assert context["ti"].last("session_url").endswith(f"/view/{session['_id']}")
    assert any(
        message.startswith(f"Pausing session {session['_id']} (was running") for message in log_messages()
    )


@pytest.mark.parametrize(
    ("kwargs", "upload", "force"),
    [
        ({"upload_on_close": False}, False, False),
        ({"force": True}, True, True),
        ({"upload_on_close": "false", "force": "yes"}, False, True),
    ],
)
def test_upload_on_close_and_force_reach_the_request(cloudos_conn, kwargs, upload, force):
    session = cloudos_conn.add_session(name="busy", status="ready")
    stop(session["_id"], **kwargs).execute(make_context())
    assert cloudos_conn.abort_requests == [(session["_id"], upload, force)]


def test_a_session_still_starting_is_paused_too(cloudos_conn):
    session = cloudos_conn.add_session(name="booting", status="setup")
    stop(session["_id"]).execute(make_context())
    assert cloudos_conn.session(session["_id"])["status"] == "aborted"


def test_wait_for_paused_false_returns_after_the_request(cloudos_conn):
    cloudos_conn.set_timings(SLOW_PAUSE)
    session = cloudos_conn.add_session(name="busy", status="ready")
    stop(session["_id"], wait_for_paused="false").execute(make_context())
    assert cloudos_conn.session(session["_id"])["status"] == "aborting"
    assert cloudos_conn.counters.requests("get") == 1


def test_already_paused_succeeds_without_a_request_and_says_so(cloudos_conn, log_messages):
    session = cloudos_conn.add_session(name="idle", status="aborted")
    assert stop(session["_id"]).execute(make_context()) == session["_id"]
    assert cloudos_conn.counters.requests("abort") == 0
    assert f"Session {session['_id']} is already paused" in " ".join(log_messages())


def test_already_paused_does_not_defer(cloudos_conn):
    session = cloudos_conn.add_session(name="idle", status="aborted")
    assert stop(session["_id"], deferrable=True).execute(make_context()) == session["_id"]
    assert cloudos_conn.counters.requests("abort") == 0


def test_already_stopping_is_waited_for_without_a_second_request(cloudos_conn, log_messages):
    cloudos_conn.set_timings(StateTimings(aborting=0.2))
    session = cloudos_conn.add_session(name="pausing", status="aborting")
    stop(session["_id"]).execute(make_context())
    assert cloudos_conn.session(session["_id"])["status"] == "aborted"
    assert cloudos_conn.counters.requests("abort") == 0
    assert f"Session {session['_id']} is already stopping; waiting until it is paused" in " ".join(
        log_messages()
    )


def test_already_stopping_deferrable_defers_without_a_request(cloudos_conn):
    cloudos_conn.set_timings(StateTimings(aborting=0.2))
    session = cloudos_conn.add_session(name="pausing", status="aborting")
    context = make_context()
    task = stop(session["_id"], deferrable=True)
    with pytest.raises(TaskDeferred) as deferred:
        task.execute(context)
    assert cloudos_conn.counters.requests("abort") == 0
    assert task.execute_complete(context, event=run_trigger(deferred.value.trigger)) == session["_id"]
    assert context["ti"].last("session_summary")["status"] == "paused"


def test_a_terminated_session_is_a_clear_failure(cloudos_conn):
    session = cloudos_conn.add_session(name="gone", status="terminated")
    with pytest.raises(
        AirflowFailException, match=r"terminated and cannot be paused.*accept_terminated=True"
    ):
        stop(session["_id"]).execute(make_context())
    assert cloudos_conn.counters.requests("abort") == 0


def test_a_terminated_session_is_accepted_when_told(cloudos_conn):
    session = cloudos_conn.add_session(name="gone", status="terminated")
    assert stop(session["_id"], accept_terminated="true").execute(make_context()) == session["_id"]
    assert cloudos_conn.counters.requests("abort") == 0


def test_an_unknown_session_is_a_clear_failure(cloudos_conn):
    with pytest.raises(AirflowFailException, match="not found"):
        stop("0" * 24).execute(make_context())


def test_deferrable_defers_with_the_right_trigger_then_completes(cloudos_conn):
    session = cloudos_conn.add_session(name="busy", status="ready")
    context = make_context()
    task = stop(session["_id"], deferrable=True, timeout="10m")
    before = time.time()
    with pytest.raises(TaskDeferred) as deferred:
        task.execute(context)
    # A pause that saves data comes back to the method that records the saved folders' assets.
    assert deferred.value.method_name == "results_saved"
    kwargs = trigger_kwargs(deferred.value)
    assert kwargs["session_id"] == session["_id"]
    assert kwargs["target_statuses"] == ["paused"]
    assert kwargs["failure_statuses"] == ["terminated"]
    assert kwargs["stop_on_timeout"] is False, "stopping is what it waits for; nothing to pause"
    assert kwargs["stop_on_kill"] is False
    assert before + 600 <= kwargs["end_time"] <= time.time() + 600
    assert cloudos_conn.abort_requests == [(session["_id"], True, False)]
    assert task.results_saved(context, event=run_trigger(deferred.value.trigger)) == session["_id"]
    assert cloudos_conn.session(session["_id"])["status"] == "aborted"


def test_deferred_accept_terminated_waits_for_either(cloudos_conn):
    cloudos_conn.set_timings(SLOW_PAUSE)
    session = cloudos_conn.add_session(name="busy", status="ready")
    context = make_context()
    task = stop(session["_id"], deferrable=True, accept_terminated=True)
    with pytest.raises(TaskDeferred) as deferred:
        task.execute(context)
    assert trigger_kwargs(deferred.value)["target_statuses"] == ["paused", "terminated"]
    cloudos_conn.terminate_session(session["_id"])
    assert task.execute_complete(context, event=run_trigger(deferred.value.trigger)) == session["_id"]


def test_terminated_while_waiting_is_a_failure(cloudos_conn):
    cloudos_conn.set_timings(SLOW_PAUSE)
    session = cloudos_conn.add_session(name="busy", status="ready")
    context = make_context()
    task = stop(session["_id"], deferrable=True)
    with pytest.raises(TaskDeferred) as deferred:
        task.execute(context)
    cloudos_conn.terminate_session(session["_id"])
    with pytest.raises(AirflowFailException, match="terminated while waiting for paused"):
        task.execute_complete(context, event=run_trigger(deferred.value.trigger))


def test_a_pause_that_takes_too_long_times_out_without_another_request(cloudos_conn):
    cloudos_conn.set_timings(SLOW_PAUSE)
    session = cloudos_conn.add_session(name="busy", status="ready")
    with pytest.raises(AirflowException, match="did not become paused within 1s; last status: stopping"):
        stop(session["_id"], timeout=0.5).execute(make_context())
    assert cloudos_conn.counters.requests("abort") == 1


def test_works_as_a_teardown_of_the_create_task():
    from airflow.providers.common.compat.sdk import DAG

    with DAG("teardown", schedule=None, start_date=pendulum.datetime(2024, 1, 1)):
        create = CloudOSCreateSessionOperator(task_id="create", name="s", project_name="p")
        stop_task = stop(create.output).as_teardown(setups=create)
        create >> stop_task
    assert stop_task.is_teardown
    assert create.is_setup
    assert stop_task.trigger_rule == "all_done_setup_success"
    assert create.task_id in stop_task.upstream_task_ids


def test_operator_has_the_session_link():
    assert any(isinstance(link, CloudOSSessionLink) for link in stop("a" * 24).operator_extra_links)
