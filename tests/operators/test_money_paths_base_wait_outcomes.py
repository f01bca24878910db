"""How a session task's wait ends, and what it says and pauses when it ends badly.

The wait decides what a user pays for: a session found already there needs no deferral; one
that stops on its way to ``running`` fails the task at once (not after the whole timeout in the
triggerer); a guard or a timeout pauses only a session the task owns and says so only when the
pause was really sent; an interrupted wait still pauses it. Every message names the session and
its page, since that is what the user acts on. The trigger's events fed back to the task are
handled here too: a cost-limit stop is explained, a success is logged, a malformed event refused.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import (
    AirflowException,
    AirflowFailException,
    AirflowTaskTimeout,
    TaskDeferred,
)
from operator_helpers import FAST, FakeTI, make_context

from airflow_provider_cloudos.hooks.cloudos import CloudOSHook
from airflow_provider_cloudos.operators.cloudos_task import CloudOSSessionOperatorBase
from airflow_provider_cloudos.operators.sessions import (
    CloudOSCreateSessionOperator,
    CloudOSResumeSessionOperator,
    CloudOSStopSessionOperator,
)
from airflow_provider_cloudos.testing import CloudOSSimulator, StateTimings

#: Starting, resuming and pausing sessions stay where they are for the whole test.
STUCK = StateTimings(scheduled=0.0, setup=0.0, initialising=60.0, resume_initialising=60.0, aborting=60.0)
PAUSED_TO_STOP_COSTS = "; the session was paused to stop its costs"
#: Fast polling (``FAST``), typed for any operator's keyword arguments.
WAIT: dict[str, Any] = dict(FAST)


@pytest.fixture
def stuck(cloudos_conn: CloudOSSimulator) -> CloudOSSimulator:
    cloudos_conn.set_timings(STUCK)
    return cloudos_conn


def logged(messages: list[str], line: str) -> bool:
    """Whether some log message ends with ``line`` (older Airflows put a prefix in front)."""
    return any(message.endswith(line) for message in messages)


def after_first_read(
    task: CloudOSSessionOperatorBase, monkeypatch: pytest.MonkeyPatch, meanwhile: Callable[[str], object]
) -> None:
    """Run ``meanwhile`` (what a user or CloudOS does) right after the task's first read of its session."""
    reads: list[str] = []
    own_read: Callable[[str], dict[str, Any]] = task.hook.get_session

    def read_then_let_something_happen(session_id: str) -> dict[str, Any]:
        session = own_read(session_id)
        reads.append(session_id)
        if len(reads) == 1:
            meanwhile(session_id)
        return session

    monkeypatch.setattr(task.hook, "get_session", read_then_let_something_happen)


def resume_task(session_id: str, **overrides: Any) -> CloudOSResumeSessionOperator:
    return CloudOSResumeSessionOperator(task_id="resume", session_id=session_id, **{**WAIT, **overrides})


# --- deferrable: decided before deferring ---------------------------------------------------------


def test_a_session_already_running_needs_no_deferral_and_the_log_names_it_and_its_page(
    cloudos_conn: CloudOSSimulator, log_messages: Any
) -> None:
    """A retry finds the session its first try created running: nothing to wait for."""
    running = cloudos_conn.add_session(name="kept", status="ready")["_id"]
    task = CloudOSCreateSessionOperator(
        task_id="create", name="kept", project_name="genomics", deferrable=True, **WAIT
    )
    assert task.execute({"ti": FakeTI(try_number=2)}) == running
    url = task.hook.session_url(running)
    assert logged(log_messages(), f"Session {running} is already running; nothing to wait for ({url})")


def test_a_session_paused_while_starting_fails_a_deferrable_task_at_once_naming_it(
    stuck: CloudOSSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    starting = stuck.add_session(name="booting", status="initialising")["_id"]
    task = resume_task(starting, deferrable=True)
    after_first_read(task, monkeypatch, lambda session_id: CloudOSHook().pause_session(session_id))
    with pytest.raises(AirflowFailException) as raised:
        task.execute(make_context())
    url = task.hook.session_url(starting)
    assert str(raised.value) == f"Session {starting} is stopping while waiting for running ({url})"


def test_a_deferral_for_two_statuses_names_both_in_the_log(
    stuck: CloudOSSimulator, log_messages: Any
) -> None:
    session_id = stuck.add_session(name="busy", status="ready")["_id"]
    task = CloudOSStopSessionOperator(
        task_id="stop", session_id=session_id, accept_terminated=True, deferrable=True, **WAIT
    )
    with pytest.raises(TaskDeferred):
        task.execute(make_context())
    assert any("deferring until it is paused or terminated (at most" in message for message in log_messages())


# --- in the worker: guards, timeouts, refusals, interruptions ----------------------------------


@pytest.fixture
def costly_paused(stuck: CloudOSSimulator) -> str:
    """A paused session that has already cost 5 USD."""
    return str(stuck.add_session(name="costly", status="aborted", cost=5.0)["_id"])


def test_a_guard_that_fires_pauses_the_resumed_session_and_says_why(
    stuck: CloudOSSimulator, costly_paused: str, log_messages: Any
) -> None:
    task = resume_task(costly_paused, max_cost_usd=5)
    with pytest.raises(AirflowFailException) as raised:
        task.execute(make_context())
    assert str(raised.value).endswith(PAUSED_TO_STOP_COSTS)
    reason = "cost $5.00 reached the limit of $5.00"
    assert logged(log_messages(), f"Paused session {costly_paused} because {reason}")
    assert stuck.abort_requests == [(costly_paused, True, False)]


def test_a_guard_that_fires_without_stop_on_kill_claims_no_pause(
    stuck: CloudOSSimulator, costly_paused: str
) -> None:
    task = resume_task(costly_paused, max_cost_usd=5, stop_on_kill=False)
    with pytest.raises(AirflowFailException) as raised:
        task.execute(make_context())
    url = task.hook.session_url(costly_paused)
    assert str(raised.value) == (
        f"Session {costly_paused} cost $5.00 reached the limit of $5.00 while waiting for running ({url})"
    )
    assert stuck.abort_requests == []


def test_a_timeout_on_a_session_the_task_does_not_own_ends_with_its_page_and_claims_no_pause(
    stuck: CloudOSSimulator,
) -> None:
    starting = stuck.add_session(name="booting", status="initialising")["_id"]
    task = resume_task(starting, timeout=0.5)
    with pytest.raises(AirflowException) as raised:
        task.execute(make_context())
    message = str(raised.value)
    assert "did not become running" in message
    assert message.endswith(f"({task.hook.session_url(starting)})"), message


class ManualClock:
    """The wait's clock and sleep: time moves only when the wait sleeps, and each sleep is kept."""

    def __init__(self) -> None:
        self.now = time.time()
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert len(self.slept) < 50, "the wait keeps polling past its timeout"
        self.slept.append(seconds)
        self.now += seconds


def test_a_wait_longer_than_half_an_hour_lasts_the_whole_timeout_given(stuck: CloudOSSimulator) -> None:
    """``timeout="2h"`` is two hours of waiting, not the hook's default of 30 minutes."""
    starting = stuck.add_session(name="booting", status="initialising")["_id"]
    task = resume_task(starting, timeout="2h", poll_interval="10m")
    manual = ManualClock()
    task.hook.wait_for_status = functools.partial(
        task.hook.wait_for_status, sleep=manual.sleep, clock=manual.clock
    )
    with pytest.raises(AirflowException, match="did not become running"):
        task.execute(make_context())
    assert sum(manual.slept) == pytest.approx(7200, abs=60), manual.slept


def test_a_refused_status_read_while_waiting_fails_the_task_with_cloudos_answer(
    stuck: CloudOSSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    starting = stuck.add_session(name="booting", status="initialising")["_id"]
    task = resume_task(starting)
    after_first_read(task, monkeypatch, lambda _: stuck.faults.fail_next("get", status=404))
    with pytest.raises(AirflowFailException) as raised:
        task.execute(make_context())
    assert "404" in str(raised.value), raised.value


def test_an_interrupted_wait_pauses_the_resumed_session_and_says_why(
    stuck: CloudOSSimulator, log_messages: Any
) -> None:
    """``execution_timeout`` raises inside the wait's sleep: the session must not keep billing."""
    paused = stuck.add_session(name="resumable", status="aborted")["_id"]
    task = resume_task(paused)

    def execution_timeout_strikes(seconds: float) -> None:
        raise AirflowTaskTimeout("Timeout, PID: 1234")

    task.hook.wait_for_status = functools.partial(task.hook.wait_for_status, sleep=execution_timeout_strikes)
    with pytest.raises(AirflowTaskTimeout):
        task.execute(make_context())
    assert logged(log_messages(), f"Paused session {paused} because the task stopped while waiting")
    assert stuck.abort_requests == [(paused, True, False)]


# --- back from the triggerer -------------------------------------------------------------------


def test_a_missing_event_is_refused_as_an_unexpected_event() -> None:
    with pytest.raises(AirflowException, match=r"^Unexpected event from a CloudOS trigger: None$"):
        resume_task("a" * 24).execute_complete(make_context(), event=None)


def test_a_session_stopped_by_its_cost_limit_says_so_after_the_triggers_message() -> None:
    message = "Session " + "a" * 24 + " is paused while waiting for running"
    event = {
        "status": "failure",
        "session_id": "a" * 24,
        "message": message,
        "summary": {"cost_usd": 7.5, "cost_limit_usd": 5.0},
    }
    with pytest.raises(AirflowFailException) as raised:
        resume_task("a" * 24).execute_complete(make_context(), event=event)
    assert str(raised.value) == f"{message}: its compute cost limit was reached ($7.50 of $5.00)"


def test_a_session_that_became_running_in_the_triggerer_is_logged_and_summarised(log_messages: Any) -> None:
    message = "Session " + "a" * 24 + " is running"
    summary = {"id": "a" * 24, "status": "running"}
    event = {"status": "success", "session_id": "a" * 24, "message": message, "summary": summary}
    context = make_context()
    assert resume_task("a" * 24).execute_complete(context, event=event) == "a" * 24
    assert logged(log_messages(), message)
    assert context["ti"].last("session_summary") == summary
