"""A resume that loses the race to somebody else's: carry on with the session, or fail naming why.

Between the task's read of a paused session and its resume request, a user (or another task) may
resume the session first. CloudOS then refuses the task's request ("not in a resumable status").
The session is starting anyway, so the task must carry on with it, say so in its log, and keep
owning whatever it owned before (a create task's own session is still paused by a kill). If the
session is instead neither running nor starting (paused again meanwhile), or CloudOS refused for
another reason, the task fails with CloudOS's own words.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException
from operator_helpers import FAST, FakeTI, make_context

from airflow_provider_cloudos.hooks.cloudos import CloudOSHook
from airflow_provider_cloudos.operators.cloudos_task import CloudOSSessionOperatorBase
from airflow_provider_cloudos.operators.sessions import (
    CloudOSCreateSessionOperator,
    CloudOSResumeSessionOperator,
)
from airflow_provider_cloudos.testing import CloudOSSimulator, StateTimings

#: Resumed sessions stay ``initialising`` and paused ones ``aborting`` for the whole test.
SLOW = StateTimings(scheduled=0.0, setup=0.0, resume_initialising=60.0, aborting=60.0)


def logged(messages: list[str], line: str) -> bool:
    """Whether some log message ends with ``line`` (older Airflows put a prefix in front)."""
    return any(message.endswith(line) for message in messages)


def somebody_acts_first(
    task: CloudOSSessionOperatorBase, monkeypatch: pytest.MonkeyPatch, *, then_pause: bool = False
) -> None:
    """Another client resumes the session (and with ``then_pause`` pauses it again) just before
    the task's own resume request reaches CloudOS."""
    other = CloudOSHook()
    own_request: Callable[[str, dict[str, Any]], dict[str, Any]] = task.hook.resume_session

    def resume_after_somebody(session_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        other.resume_session(session_id, {})
        if then_pause:
            assert other.pause_session(session_id) is True
        return own_request(session_id, payload)

    monkeypatch.setattr(task.hook, "resume_session", resume_after_somebody)


@pytest.fixture
def paused(cloudos_conn: CloudOSSimulator) -> str:
    cloudos_conn.set_timings(SLOW)
    return str(cloudos_conn.add_session(name="raced", status="aborted")["_id"])


def resume_task(session_id: str, **overrides: Any) -> CloudOSResumeSessionOperator:
    return CloudOSResumeSessionOperator(task_id="resume", session_id=session_id, **{**FAST, **overrides})


def test_a_session_resumed_by_somebody_else_meanwhile_is_carried_on_with_and_said_so(
    cloudos_conn: CloudOSSimulator, paused: str, monkeypatch: pytest.MonkeyPatch, log_messages: Any
) -> None:
    task = resume_task(paused, wait_for_running=False)
    somebody_acts_first(task, monkeypatch)
    assert task.execute(make_context()) == paused
    assert cloudos_conn.counters.requests("resume") == 2  # theirs, then the task's refused one
    expected = f"Session {paused} was resumed meanwhile (now initialising); carrying on with it"
    assert logged(log_messages(), expected)


def test_a_create_task_still_owns_its_own_session_after_losing_the_resume_race(
    cloudos_conn: CloudOSSimulator, paused: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A retry carries on with the session its first try left paused: a kill must still pause it."""
    options: dict[str, Any] = {"name": "raced", "project_name": "genomics", "wait_for_running": False, **FAST}
    task = CloudOSCreateSessionOperator(task_id="create", **options)
    somebody_acts_first(task, monkeypatch)
    assert task.execute({"ti": FakeTI(try_number=2)}) == paused
    task.on_kill()
    assert cloudos_conn.abort_requests == [(paused, True, False)]


def test_a_session_paused_again_before_the_resume_arrives_fails_the_task_with_cloudos_words(
    cloudos_conn: CloudOSSimulator, paused: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    task = resume_task(paused)
    somebody_acts_first(task, monkeypatch, then_pause=True)
    with pytest.raises(AirflowFailException) as raised:
        task.execute(make_context())
    assert f"Interactive session {paused} is not in a resumable status" in str(raised.value)
    assert cloudos_conn.session(paused)["status"] == "aborting"


def test_a_resume_refused_for_another_reason_fails_the_task_with_that_reason(
    cloudos_conn: CloudOSSimulator, paused: str
) -> None:
    cloudos_conn.faults.fail_next("resume", status=400)
    with pytest.raises(AirflowFailException) as raised:
        resume_task(paused).execute(make_context())
    assert "400" in str(raised.value), raised.value
    assert cloudos_conn.counters.requests("get") == 1  # no second look: the refusal says it all
