"""A create task that is killed or times out while waiting must not leave its session billing."""

from __future__ import annotations

import asyncio
import functools
import threading

import pytest
from airflow.providers.common.compat.sdk import (
    AirflowException,
    AirflowFailException,
    AirflowTaskTimeout,
    TaskDeferred,
)
from operator_helpers import FAST, make_context, trigger_kwargs

from airflow_provider_cloudos.operators.sessions import CloudOSCreateSessionOperator
from airflow_provider_cloudos.testing import StateTimings

STUCK_IN_SETUP = StateTimings(scheduled=0.0, setup=60.0)
PAUSED_OR_PAUSING = ("aborting", "aborted")


def create(**kwargs) -> CloudOSCreateSessionOperator:
    options = {"task_id": "create", "name": "killable", "project_name": "genomics", **FAST}
    options.update(kwargs)
    return CloudOSCreateSessionOperator(**options)


@pytest.fixture
def stuck(cloudos_conn):
    """Created sessions stay in ``setup``: every wait ends by timeout or kill."""
    cloudos_conn.set_timings(STUCK_IN_SETUP)
    return cloudos_conn


def test_sync_timeout_pauses_the_session_and_says_so(stuck):
    context = make_context()
    with pytest.raises(AirflowException, match=r"last status: setup .*; the session was paused") as raised:
        create(timeout=0.5).execute(context)
    assert not isinstance(raised.value, AirflowFailException), "a timeout may be retried"
    session_id = context["ti"].last("session_id")
    assert stuck.session(session_id)["status"] in PAUSED_OR_PAUSING
    assert stuck.abort_requests == [(session_id, True, False)]


def test_sync_timeout_without_stop_on_kill_leaves_the_session_running(stuck):
    context = make_context()
    with pytest.raises(AirflowException) as raised:
        create(timeout=0.5, stop_on_kill=False).execute(context)
    assert "paused" not in str(raised.value)
    assert stuck.session(context["ti"].last("session_id"))["status"] == "setup"
    assert stuck.counters.requests("abort") == 0


def _execute_in_thread(task: CloudOSCreateSessionOperator, context: dict) -> tuple[threading.Thread, list]:
    outcome: list = []

    def run() -> None:
        try:
            outcome.append(task.execute(context))
        except BaseException as error:
            outcome.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert context["ti"].session_pushed.wait(10), "the session was never created"
    return thread, outcome


def test_on_kill_during_a_sync_wait_pauses_the_session(stuck):
    context = make_context()
    task = create(timeout=30)
    thread, outcome = _execute_in_thread(task, context)
    task.on_kill()
    thread.join(10)
    assert not thread.is_alive()
    session_id = context["ti"].last("session_id")
    assert stuck.session(session_id)["status"] in PAUSED_OR_PAUSING
    assert stuck.abort_requests == [(session_id, True, False)]
    (error,) = outcome
    assert isinstance(error, AirflowFailException)
    assert "while waiting for running" in str(error)


def test_on_kill_with_stop_on_kill_false_leaves_the_session_alone(stuck):
    context = make_context()
    task = create(timeout=0.5, stop_on_kill="false")
    thread, _ = _execute_in_thread(task, context)
    task.on_kill()
    thread.join(10)
    assert stuck.counters.requests("abort") == 0


def test_on_kill_before_any_session_exists_makes_no_request(cloudos_conn):
    create().on_kill()
    assert cloudos_conn.counters.requests() == 0


def test_execution_timeout_during_a_sync_wait_pauses_the_session(stuck):
    context = make_context()
    task = create(timeout=30)
    polls = []

    def task_timeout_on_second_sleep(seconds: float) -> None:
        polls.append(seconds)
        if len(polls) >= 2:
            raise AirflowTaskTimeout("Timeout, PID: 1234")

    original = task.hook.wait_for_status
    task.hook.wait_for_status = functools.partial(original, sleep=task_timeout_on_second_sleep)
    with pytest.raises(AirflowTaskTimeout):
        task.execute(context)
    session_id = context["ti"].last("session_id")
    assert stuck.session(session_id)["status"] in PAUSED_OR_PAUSING


def test_deferred_kill_is_handled_by_the_trigger(stuck):
    """Deferred tasks have no worker: the trigger the operator built pauses the session on kill."""
    context = make_context()
    with pytest.raises(TaskDeferred) as deferred:
        create(deferrable=True).execute(context)
    assert trigger_kwargs(deferred.value)["stop_on_kill"] is True
    asyncio.run(deferred.value.trigger.on_kill())
    assert stuck.session(context["ti"].last("session_id"))["status"] in PAUSED_OR_PAUSING
