"""The pause a task sends for the session it resumed when it is killed or its wait runs out.

It must go out even when the ``stop_on_kill`` flag cannot be read, must not be claimed when it
failed, and the log must say which session was (or could not be) paused and why.
"""

from __future__ import annotations

from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowException
from operator_helpers import FAST, make_context

from airflow_provider_cloudos.operators.sessions import CloudOSResumeSessionOperator
from airflow_provider_cloudos.testing import StateTimings

#: A resumed session stays ``initialising`` for the whole test.
SLOW_RESUME = StateTimings(resume_initialising=60.0)


def resume(session_id: str, **kwargs: Any) -> CloudOSResumeSessionOperator:
    options = {"task_id": "resume", "session_id": session_id, **FAST}
    options.update(kwargs)
    return CloudOSResumeSessionOperator(**options)


@pytest.fixture
def resumed(cloudos_conn) -> tuple[CloudOSResumeSessionOperator, str]:
    """A task that has resumed a paused session (and did not wait): the session is its own."""
    cloudos_conn.set_timings(SLOW_RESUME)
    session_id = cloudos_conn.add_session(name="resumable", status="aborted")["_id"]
    task = resume(session_id, wait_for_running=False)
    task.execute(make_context())
    return task, session_id


def test_a_killed_task_pauses_what_it_resumed_and_says_why(cloudos_conn, resumed, log_messages):
    task, session_id = resumed
    task.on_kill()
    assert cloudos_conn.abort_requests == [(session_id, True, False)]
    assert f"Paused session {session_id} because the task was killed" in log_messages()


def test_an_unreadable_stop_on_kill_still_pauses_on_a_kill(cloudos_conn, resumed):
    """Rendered to something that is not a flag: on a kill path, stopping the costs is the safe side."""
    task, session_id = resumed
    task.stop_on_kill = "perhaps"
    task.on_kill()
    assert cloudos_conn.abort_requests == [(session_id, True, False)]


def test_a_session_already_pausing_when_the_task_is_killed_is_said_so(cloudos_conn, resumed, log_messages):
    task, session_id = resumed
    assert task.hook.pause_session(session_id) is True  # somebody pauses it first
    task.on_kill()
    assert cloudos_conn.session(session_id)["status"] in ("aborting", "aborted")
    assert f"Session {session_id} was already paused or pausing when the task was killed" in log_messages()


def test_a_failed_pause_after_a_timeout_is_logged_and_not_claimed(cloudos_conn, log_messages):
    cloudos_conn.set_timings(SLOW_RESUME)
    session_id = cloudos_conn.add_session(name="resumable", status="aborted")["_id"]
    cloudos_conn.faults.fail_next("abort", status=400)
    with pytest.raises(AirflowException, match="did not become running") as raised:
        resume(session_id, timeout=0.5).execute(make_context())
    assert "paused" not in str(raised.value)
    prefix = f"Could not pause session {session_id} after its wait timed out: "
    said = [message for message in log_messages() if message.startswith(prefix)]
    assert said, log_messages()
    assert "400" in said[0]  # what CloudOS answered
    assert cloudos_conn.session(session_id)["status"] in ("initialising", "initializing")
