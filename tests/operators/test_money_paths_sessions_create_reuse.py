"""Which session a create task carries on with instead of creating a second one, and what it then owns.

Every decision here is money: carrying on with the right session (also when the project is
given by id), resuming the one an earlier try left paused without reading it again, asking
CloudOS only for sessions that could be reused, ignoring a state-store value that is no session
id, and pausing on a timeout exactly the sessions the task took over (never one it only waited
for while somebody else paused it). A same-named session with other settings is refused with
a message that shows both sides and the ways out.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException, TaskDeferred
from operator_helpers import FAST, FakeTaskStateStore, make_context

from airflow_provider_cloudos.operators.sessions import STATE_STORE_KEY, CloudOSCreateSessionOperator
from airflow_provider_cloudos.testing import CloudOSSimulator, StateTimings

NAME = "nightly-analysis"
#: Transitions slow enough that a session keeps the status it was put in for the whole test.
SLOW = StateTimings(initialising=60.0, aborting=60.0, resume_initialising=60.0)
#: A wait that gives up quickly; the session cannot change status meanwhile (see ``SLOW``).
SHORT_WAIT = {"poll_interval": 0.02, "timeout": 0.3}


def create(**kwargs: Any) -> CloudOSCreateSessionOperator:
    options: dict[str, Any] = {"task_id": "create", "name": NAME, "project_name": "genomics", **FAST}
    options.update(kwargs)
    return CloudOSCreateSessionOperator(**options)


def by_id(sim: CloudOSSimulator, **kwargs: Any) -> CloudOSCreateSessionOperator:
    """The task with its project given by id instead of by name."""
    return create(project_name=None, project_id=sim.project_id, **kwargs)


def test_a_project_given_by_id_still_finds_the_matching_live_session(cloudos_conn: CloudOSSimulator) -> None:
    live = cloudos_conn.add_session(name=NAME, status="ready")["_id"]
    assert by_id(cloudos_conn).execute(make_context()) == live
    assert cloudos_conn.counters.requests("create") == 0


def test_a_session_with_other_settings_is_refused_showing_both_sides_by_project_id(
    cloudos_conn: CloudOSSimulator,
) -> None:
    other = cloudos_conn.add_session(name=NAME, status="ready", instance_type="c5.2xlarge")["_id"]
    task = by_id(cloudos_conn)
    with pytest.raises(AirflowFailException) as raised:
        task.execute(make_context())
    lines = str(raised.value).split("\n")
    url = task.hook.session_url(other)
    assert lines[0] == (
        f"A session named {NAME!r} already exists ({other}, running: {url}) with settings this "
        "task does not ask for, so the task will not carry on with it:"
    )
    asks = next(line for line in lines if line.startswith("The task asks for:  "))
    has = next(line for line in lines if line.startswith("The session has:    "))
    # The project on both sides as the task named it: by its id.
    assert cloudos_conn.project_id in asks
    assert cloudos_conn.project_id in has
    assert lines[-1] == (
        "Ways out: give the task another name (one per run, e.g. with {{ run_id }}); or set "
        f"reuse_existing=False to create a second session with this name; or stop (pause) session {other} "
        "first."
    )
    assert cloudos_conn.counters.requests("create") == 0


def test_by_project_name_the_refusal_shows_the_sessions_project_by_name(
    cloudos_conn: CloudOSSimulator,
) -> None:
    cloudos_conn.add_session(name=NAME, status="ready", instance_type="c5.2xlarge")
    with pytest.raises(AirflowFailException) as raised:
        create().execute(make_context())
    has = next(line for line in str(raised.value).split("\n") if line.startswith("The session has:"))
    assert "genomics" in has
    assert cloudos_conn.project_id not in has


def test_only_reusable_sessions_are_asked_for(cloudos_conn: CloudOSSimulator) -> None:
    """More same-named terminated sessions than fit one page must not cost a second page: one list
    request before the create and one after it (the duplicate check)."""
    for _ in range(101):
        cloudos_conn.add_session(name=NAME, status="terminated")
    create(wait_for_running=False).execute(make_context())
    assert cloudos_conn.counters.requests("list") == 2
    assert cloudos_conn.counters.requests("create") == 1


def test_a_state_store_value_that_is_no_session_id_is_ignored(cloudos_conn: CloudOSSimulator) -> None:
    store = FakeTaskStateStore()
    store.set(STATE_STORE_KEY, "not-a-session-id")
    created = create(wait_for_running=False).execute(make_context(store))
    assert created != "not-a-session-id"
    assert cloudos_conn.counters.requests("create") == 1
    assert store.get(STATE_STORE_KEY) == created


def test_a_stored_session_carried_on_with_is_paused_when_its_wait_times_out(
    cloudos_conn: CloudOSSimulator,
) -> None:
    """The task did not create it, but took it over: a timeout must not leave it billing."""
    cloudos_conn.set_timings(SLOW)
    starting = cloudos_conn.add_session(name="earlier", status="initialising")["_id"]
    store = FakeTaskStateStore()
    store.set(STATE_STORE_KEY, starting)
    with pytest.raises(AirflowException, match="did not become running"):
        create(**SHORT_WAIT).execute(make_context(store))
    assert cloudos_conn.counters.requests("create") == 0
    assert cloudos_conn.abort_requests == [(starting, True, False)]


def test_an_earlier_session_still_stopping_is_waited_for_and_not_paused_again_on_timeout(
    cloudos_conn: CloudOSSimulator, log_messages: Callable[[], list[str]]
) -> None:
    cloudos_conn.set_timings(SLOW)
    stopping = cloudos_conn.add_session(name=NAME, status="aborting")["_id"]
    with pytest.raises(AirflowException, match="did not become paused"):
        create(**SHORT_WAIT).execute(make_context(try_number=2))
    assert (
        f"Session {stopping} from an earlier try is still stopping; waiting until it is paused to resume it"
        in log_messages()
    )
    assert cloudos_conn.abort_requests == []
    assert cloudos_conn.counters.requests("create") == 0


def test_a_retry_resumes_the_session_its_first_try_paused_and_says_which(
    cloudos_conn: CloudOSSimulator, log_messages: Callable[[], list[str]]
) -> None:
    cloudos_conn.set_timings(SLOW)
    paused = cloudos_conn.add_session(name=NAME, status="aborted")["_id"]
    context = make_context(try_number=2)
    assert create(wait_for_running=False).execute(context) == paused
    assert f"Resuming session {paused}, which an earlier try left paused" in log_messages()
    assert cloudos_conn.counters.requests("create") == 0
    assert [session_id for session_id, _ in cloudos_conn.resume_payloads] == [paused]
    # The summary is the session as the resume answered it: starting again, no longer paused.
    summary = context["ti"].last("session_summary")
    assert (summary["id"], summary["status"]) == (paused, "initialising")


def test_a_resumed_session_is_not_read_again_before_deferring(cloudos_conn: CloudOSSimulator) -> None:
    cloudos_conn.set_timings(SLOW)
    cloudos_conn.add_session(name=NAME, status="aborted")
    with pytest.raises(TaskDeferred):
        create(deferrable=True).execute(make_context(try_number=2))
    assert cloudos_conn.counters.requests("resume") == 1
    assert cloudos_conn.counters.requests("get") == 0  # the resume's answer said where it is


def test_back_from_waiting_for_a_pause_the_task_owns_the_session_it_carries_on_with(
    cloudos_conn: CloudOSSimulator,
) -> None:
    """Somebody resumed it meanwhile: the task still takes it over, so a timeout pauses it."""
    cloudos_conn.set_timings(SLOW)
    starting = cloudos_conn.add_session(name=NAME, status="initialising")["_id"]
    event = {"status": "success", "session_id": starting, "message": f"Session {starting} is paused"}
    task = create(**SHORT_WAIT)
    with pytest.raises(AirflowException, match="did not become running"):
        task.resume_after_pause(make_context(try_number=2), event=event)
    assert cloudos_conn.abort_requests == [(starting, True, False)]
    assert cloudos_conn.counters.requests("resume") == 0
