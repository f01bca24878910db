"""What a stop task tells its user about the session it was asked to pause, whatever state it found.

A stop task is the teardown that ends the billing. Its log and its failures are how a user
learns which session it acted on, whether the data is being saved, whether somebody else was
already pausing it, and where its page is; its XCom summary is what downstream tasks read. Each
test here pins one of those lines, on one state the session can be in when the task runs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException, TaskDeferred
from operator_helpers import FAST, make_context, run_trigger

from airflow_provider_cloudos.hooks.cloudos import CloudOSHook
from airflow_provider_cloudos.operators.sessions import CloudOSStopSessionOperator
from airflow_provider_cloudos.testing import CloudOSSimulator, StateTimings

#: A pause that takes a minute: a session put in ``aborting`` stays there for the whole test.
SLOW_PAUSE = StateTimings(aborting=60.0)


def stop(session_id: str, **kwargs: Any) -> CloudOSStopSessionOperator:
    options: dict[str, Any] = {"task_id": "stop", "session_id": session_id, **FAST}
    options.update(kwargs)
    return CloudOSStopSessionOperator(**options)


def test_an_already_paused_session_is_named_with_its_page_and_summarised(
    cloudos_conn: CloudOSSimulator, log_messages: Callable[[], list[str]]
) -> None:
    paused = cloudos_conn.add_session(name="resting", status="aborted")["_id"]
    task = stop(paused)
    context = make_context()
    assert task.execute(context) == paused
    url = task.hook.session_url(paused)
    assert f"Session {paused} is already paused; nothing to do ({url})" in log_messages()
    summary = context["ti"].last("session_summary")
    assert (summary["id"], summary["name"], summary["status"]) == (paused, "resting", "paused")
    assert cloudos_conn.abort_requests == []


def test_a_terminated_session_accepted_as_stopped_is_named_with_its_page(
    cloudos_conn: CloudOSSimulator, log_messages: Callable[[], list[str]]
) -> None:
    gone = cloudos_conn.add_session(name="gone", status="terminated")["_id"]
    task = stop(gone, accept_terminated=True)
    assert task.execute(make_context()) == gone
    url = task.hook.session_url(gone)
    assert f"Session {gone} is terminated; accepted as stopped ({url})" in log_messages()


def test_a_terminated_session_fails_the_task_saying_where_it_is_and_how_to_accept_it(
    cloudos_conn: CloudOSSimulator,
) -> None:
    gone = cloudos_conn.add_session(name="gone", status="terminated")["_id"]
    task = stop(gone)
    with pytest.raises(AirflowFailException) as raised:
        task.execute(make_context())
    message = str(raised.value)
    url = task.hook.session_url(gone)
    assert f"Session {gone} is terminated and cannot be paused ({url}); set accept_terminated=True" in message
    assert message.endswith("set accept_terminated=True to treat that as success")


def test_a_session_already_stopping_is_not_waited_for_when_told_not_to_and_the_log_says_so(
    cloudos_conn: CloudOSSimulator, log_messages: Callable[[], list[str]]
) -> None:
    cloudos_conn.set_timings(SLOW_PAUSE)
    stopping = cloudos_conn.add_session(name="closing", status="aborting")["_id"]
    task = stop(stopping, wait_for_paused=False)
    assert task.execute(make_context()) == stopping
    url = task.hook.session_url(stopping)
    assert f"Session {stopping} is already stopping; not waiting ({url})" in log_messages()
    assert cloudos_conn.abort_requests == []  # a second pause request would only be refused


def test_pausing_a_running_session_logs_which_one_that_its_data_is_saved_and_its_page(
    cloudos_conn: CloudOSSimulator, log_messages: Callable[[], list[str]]
) -> None:
    cloudos_conn.set_timings(SLOW_PAUSE)
    running = cloudos_conn.add_session(name="busy", status="ready")["_id"]
    task = stop(running, wait_for_paused=False)
    task.execute(make_context())
    url = task.hook.session_url(running)
    assert f"Pausing session {running} (was running; saving its data: yes): {url}" in log_messages()
    assert cloudos_conn.abort_requests == [(running, True, False)]


def test_a_refused_pause_fails_the_task_with_the_reason_cloudos_gave(cloudos_conn: CloudOSSimulator) -> None:
    running = cloudos_conn.add_session(name="busy", status="ready")["_id"]
    cloudos_conn.faults.fail_next("abort", status=403)
    with pytest.raises(AirflowException) as raised:
        stop(running).execute(make_context())
    message = str(raised.value)
    assert "403" in message
    assert running in message


def _paused_by_someone_else_while_the_task_reads_it(sim: CloudOSSimulator, session_id: str) -> None:
    """Hold the task's read of the session (it says running), and meanwhile pause it elsewhere."""
    for _ in range(1000):  # bounds a broken run at about 10 s
        if sim.faults.held:
            break
        time.sleep(0.01)
    else:
        raise AssertionError("the stop task never read the session")
    assert CloudOSHook().pause_session(session_id) is True
    sim.faults.release_held()


def test_a_session_somebody_else_paused_meanwhile_is_named_with_its_page(
    cloudos_conn: CloudOSSimulator, log_messages: Callable[[], list[str]]
) -> None:
    cloudos_conn.set_timings(StateTimings(aborting=0.0))
    running = cloudos_conn.add_session(name="shared", status="ready")["_id"]
    task = stop(running)
    cloudos_conn.faults.hold_answers("get")
    outcome: list[Any] = []
    worker = threading.Thread(target=lambda: outcome.append(task.execute(make_context())), daemon=True)
    worker.start()
    _paused_by_someone_else_while_the_task_reads_it(cloudos_conn, running)
    worker.join(20)
    assert not worker.is_alive()
    assert outcome == [running]
    url = task.hook.session_url(running)
    assert f"Session {running} was already being paused by someone else ({url})" in log_messages()


def test_back_from_the_triggerer_the_task_logs_what_the_wait_ended_with(
    cloudos_conn: CloudOSSimulator, log_messages: Callable[[], list[str]]
) -> None:
    running = cloudos_conn.add_session(name="busy", status="ready")["_id"]
    context = make_context()
    with pytest.raises(TaskDeferred) as deferred:
        stop(running, deferrable=True).execute(context)
    event = run_trigger(deferred.value.trigger)
    assert stop(running, deferrable=True).execute_complete(context, event=event) == running
    assert event["message"]
    assert running in event["message"]
    assert event["message"] in log_messages()
