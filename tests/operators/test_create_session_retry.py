"""A retried (or cleared) create task carries on with the session an earlier try created."""

from __future__ import annotations

import functools

import pytest
from airflow.providers.common.compat.sdk import AirflowException, TaskDeferred
from operator_helpers import FAST, FakeTaskStateStore, make_context, resume_from

from airflow_provider_cloudos.operators.sessions import STATE_STORE_KEY, CloudOSCreateSessionOperator
from airflow_provider_cloudos.testing import StateTimings

STUCK_IN_SETUP = StateTimings(scheduled=0.0, setup=60.0)
QUICK = StateTimings(scheduled=0.0, setup=0.0, initialising=0.02, aborting=0.02, resume_initialising=0.02)


def create(**kwargs) -> CloudOSCreateSessionOperator:
    """A fresh instance per try, as Airflow builds one per try."""
    options = {"task_id": "create", "name": "retried", "project_name": "genomics", **FAST}
    options.update(kwargs)
    return CloudOSCreateSessionOperator(**options)


def first_try_times_out(sim, store: FakeTaskStateStore | None, *, stop_on_kill: bool) -> str:
    """The first try creates the session, then its wait times out; returns the session id."""
    sim.set_timings(STUCK_IN_SETUP)
    context = make_context(store)
    with pytest.raises(AirflowException, match="did not become running"):
        create(timeout=0.5, stop_on_kill=stop_on_kill).execute(context)
    sim.set_timings(QUICK)
    return context["ti"].last("session_id")


def first_try_crashes(sim, store: FakeTaskStateStore | None) -> str:
    """The first try creates the session, then its worker dies while waiting (no pause)."""
    sim.set_timings(QUICK)
    context = make_context(store)
    task = create(stop_on_kill=False)

    def worker_lost(seconds: float) -> None:
        raise RuntimeError("worker lost")

    task.hook.wait_for_status = functools.partial(task.hook.wait_for_status, sleep=worker_lost)
    with pytest.raises(RuntimeError, match="worker lost"):
        task.execute(context)
    return context["ti"].last("session_id")


def test_retry_with_the_task_state_store_reuses_the_live_session(cloudos_conn):
    store = FakeTaskStateStore()
    session_id = first_try_crashes(cloudos_conn, store)
    assert store.data == {STATE_STORE_KEY: session_id}
    context = make_context(store, try_number=2)
    lists_before = cloudos_conn.counters.requests("list")
    assert create().execute(context) == session_id
    assert cloudos_conn.counters.requests("create") == 1
    assert cloudos_conn.counters.requests("list") == lists_before, "the stored id is enough"
    assert context["ti"].last("session_id") == session_id


def test_retry_with_the_task_state_store_resumes_a_session_the_first_try_paused(cloudos_conn, log_messages):
    store = FakeTaskStateStore()
    session_id = first_try_times_out(cloudos_conn, store, stop_on_kill=True)
    assert cloudos_conn.session(session_id)["status"] in ("aborting", "aborted")
    assert create().execute(make_context(store, try_number=2)) == session_id
    assert cloudos_conn.counters.requests("create") == 1
    assert cloudos_conn.counters.requests("resume") == 1
    assert cloudos_conn.resume_payloads == [(session_id, {"dataItems": [], "fileSystemIds": []})]
    assert cloudos_conn.session(session_id)["status"] == "ready"
    assert any("earlier try left paused" in message for message in log_messages())


def test_retry_waits_for_a_stopping_session_then_resumes_it(cloudos_conn):
    store = FakeTaskStateStore()
    cloudos_conn.set_timings(StateTimings(aborting=0.3, resume_initialising=0.02))
    stopping = cloudos_conn.add_session(name="retried", status="aborting")
    store.set(STATE_STORE_KEY, stopping["_id"])
    assert create().execute(make_context(store, try_number=2)) == stopping["_id"]
    assert cloudos_conn.counters.requests("create") == 0
    assert cloudos_conn.counters.requests("resume") == 1
    assert cloudos_conn.session(stopping["_id"])["status"] == "ready"


def test_deferred_retry_waits_for_a_stopping_session_in_the_triggerer(cloudos_conn):
    store = FakeTaskStateStore()
    cloudos_conn.set_timings(StateTimings(aborting=0.3, resume_initialising=0.3))
    stopping = cloudos_conn.add_session(name="retried", status="aborting")
    store.set(STATE_STORE_KEY, stopping["_id"])
    context = make_context(store, try_number=2)
    task = create(deferrable=True)
    with pytest.raises(TaskDeferred) as first:
        task.execute(context)
    assert first.value.method_name == "resume_after_pause"
    assert first.value.trigger.target_statuses == ["paused"]
    with pytest.raises(TaskDeferred) as second:
        resume_from(first.value, task, context)
    assert second.value.method_name == "execute_complete"
    assert cloudos_conn.counters.requests("resume") == 1
    assert resume_from(second.value, task, context) == stopping["_id"]
    assert cloudos_conn.counters.requests("create") == 0


def test_retry_without_a_state_store_finds_the_session_by_name(cloudos_conn):
    session_id = first_try_crashes(cloudos_conn, None)
    assert create().execute(make_context(try_number=2)) == session_id
    assert cloudos_conn.counters.requests("create") == 1


def test_retry_without_a_state_store_resumes_the_session_the_first_try_paused(cloudos_conn):
    session_id = first_try_times_out(cloudos_conn, None, stop_on_kill=True)
    assert create().execute(make_context(try_number=2)) == session_id
    assert cloudos_conn.counters.requests("create") == 1
    assert cloudos_conn.counters.requests("resume") == 1
    assert cloudos_conn.session(session_id)["status"] == "ready"


def test_a_first_try_does_not_resume_a_paused_session_of_the_same_name(cloudos_conn):
    """A session kept paused from yesterday's run is not an earlier try of this one."""
    old = cloudos_conn.add_session(name="retried", status="aborted")
    cloudos_conn.set_timings(QUICK)
    session_id = create().execute(make_context(try_number=1))
    assert session_id != old["_id"]
    assert cloudos_conn.counters.requests("create") == 1
    assert cloudos_conn.session(old["_id"])["status"] == "aborted"


def test_a_live_session_of_another_user_is_not_taken(cloudos_conn):
    theirs = cloudos_conn.add_session(name="retried", status="ready", owner="other")
    cloudos_conn.set_timings(QUICK)
    assert create().execute(make_context(try_number=2)) != theirs["_id"]
    assert cloudos_conn.counters.requests("create") == 1


def test_reuse_existing_false_creates_a_second_session(cloudos_conn):
    store = FakeTaskStateStore()
    first = first_try_crashes(cloudos_conn, store)
    second = create(reuse_existing="false").execute(make_context(store, try_number=2))
    assert second != first
    assert cloudos_conn.counters.requests("create") == 2
    assert store.data == {STATE_STORE_KEY: second}


@pytest.mark.parametrize("use_store", [True, False])
def test_a_terminated_earlier_session_is_replaced(cloudos_conn, use_store):
    store = FakeTaskStateStore() if use_store else None
    first = first_try_crashes(cloudos_conn, store)
    cloudos_conn.terminate_session(first)
    second = create().execute(make_context(store, try_number=2))
    assert second != first
    assert cloudos_conn.counters.requests("create") == 2


def test_a_stored_id_that_no_longer_exists_is_ignored(cloudos_conn):
    store = FakeTaskStateStore()
    store.set(STATE_STORE_KEY, "0" * 24)
    cloudos_conn.set_timings(QUICK)
    session_id = create().execute(make_context(store, try_number=2))
    assert session_id != "0" * 24
    assert store.data == {STATE_STORE_KEY: session_id}
    assert cloudos_conn.counters.requests("create") == 1
