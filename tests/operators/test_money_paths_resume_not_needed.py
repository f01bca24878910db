"""A resume task given a session that is already running or starting sends no resume and owns nothing.

Such a session was started by somebody else (or an earlier run), so the task must not pause it
when its own wait times out, must not wait when told not to, and must say in its log why it did
nothing, naming the session (and that any requested changes were not applied).
"""

from __future__ import annotations

from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowException
from operator_helpers import FAST, make_context

from airflow_provider_cloudos.operators.sessions import CloudOSResumeSessionOperator
from airflow_provider_cloudos.testing import StateTimings

#: A session put in ``initialising`` stays there for the whole test.
SLOW_START = StateTimings(initialising=60.0)


def resume(session_id: str, **kwargs: Any) -> CloudOSResumeSessionOperator:
    options = {"task_id": "resume", "session_id": session_id, **FAST}
    options.update(kwargs)
    return CloudOSResumeSessionOperator(**options)


@pytest.fixture
def starting(cloudos_conn) -> str:
    cloudos_conn.set_timings(SLOW_START)
    return cloudos_conn.add_session(name="booting", status="initialising")["_id"]


def test_a_running_session_is_left_alone_and_the_log_names_it_and_its_page(cloudos_conn, log_messages):
    running = cloudos_conn.add_session(name="busy", status="ready")["_id"]
    task = resume(running, storage_size=800)
    assert task.execute(make_context()) == running
    assert cloudos_conn.counters.requests("resume") == 0
    messages = log_messages()
    url = task.hook.session_url(running)
    assert f"Session {running} is already running; nothing to resume ({url})" in messages
    assert (
        f"Session {running} was not paused, so the requested changes (resources, mounts, links) "
        "were not applied"
    ) in messages


def test_a_starting_session_is_named_with_its_status_in_the_log(cloudos_conn, starting, log_messages):
    resume(starting, wait_for_running=False).execute(make_context())
    assert f"Session {starting} is already starting (initialising); not resuming it again" in log_messages()


def test_without_wait_for_running_a_starting_session_is_not_waited_for(cloudos_conn, starting):
    gets_before = cloudos_conn.counters.requests("get")
    assert resume(starting, wait_for_running="false").execute(make_context()) == starting
    assert cloudos_conn.counters.requests("get") == gets_before + 1  # the one read of its status
    assert cloudos_conn.session(starting)["status"] == "initialising"


def test_a_running_session_is_not_read_again(cloudos_conn):
    running = cloudos_conn.add_session(name="busy", status="ready")["_id"]
    gets_before = cloudos_conn.counters.requests("get")
    resume(running).execute(make_context())
    assert cloudos_conn.counters.requests("get") == gets_before + 1


def test_a_timeout_on_a_session_this_task_did_not_start_leaves_it_starting(cloudos_conn, starting):
    """Pausing it would stop somebody else's session: the task only pauses what it resumed."""
    with pytest.raises(AirflowException, match="did not become running") as raised:
        resume(starting, timeout=0.5).execute(make_context())
    assert "paused" not in str(raised.value)
    assert cloudos_conn.counters.requests("abort") == 0
    assert cloudos_conn.session(starting)["status"] == "initialising"
