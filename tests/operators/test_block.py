"""The tasks the session block adds: its guard, its teardown and its resume setup.

The guard's question "has the body finished?" is Airflow's to answer (``compat.unfinished_tasks``,
run for real by the block's ``airflow dags test`` scenarios); here it is given, so each poke's
decision can be checked on its own against the simulator.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException

from airflow_provider_cloudos.core.errors import CloudOSStateError, CloudOSTransientError
from airflow_provider_cloudos.core.status import PAUSED, RUNNING, map_status
from airflow_provider_cloudos.hooks.cloudos import CloudOSHook
from airflow_provider_cloudos.operators import block
from airflow_provider_cloudos.operators.block import (
    XCOM_STARTED_SESSION,
    CloudOSBlockPauseOperator,
    CloudOSBlockResumeOperator,
    CloudOSSessionBlockGuard,
    started_flag,
)
from airflow_provider_cloudos.testing import StateTimings


class FakeTI:
    def __init__(self) -> None:
        self.xcom: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcom[key] = value


@pytest.fixture
def unfinished(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The body's unfinished tasks, as Airflow would report them; a test edits the list."""
    pending = ["work.report"]
    monkeypatch.setattr(block, "unfinished_tasks", lambda dag_id, run_id, task_ids: list(pending))
    return pending


def context() -> dict[str, Any]:
    return {"dag": SimpleNamespace(dag_id="d"), "run_id": "r", "ti": FakeTI()}


def guard(session_id: str, **kwargs: Any) -> CloudOSSessionBlockGuard:
    options: dict[str, Any] = {
        "task_id": "guard",
        "session_id": session_id,
        "body_task_ids": ["work.report"],
        "max_cost_usd": 5,
    }
    options.update(kwargs)
    return CloudOSSessionBlockGuard(**options)


def test_the_guard_asks_airflow_about_its_own_runs_body(cloudos_conn, monkeypatch):
    asked: list[tuple[Any, ...]] = []

    def unfinished_tasks(*args: Any) -> list[str]:
        asked.append(args)
        return ["work.report"]

    monkeypatch.setattr(block, "unfinished_tasks", unfinished_tasks)
    session = cloudos_conn.add_session(name="s", status="ready", cost=1.0)
    assert guard(session["_id"]).poke(context()) is False
    assert asked == [("d", "r", ["work.report"])]


def test_the_guard_keeps_watching_when_cloudos_does_not_answer(
    cloudos_conn, unfinished, monkeypatch, log_messages
):
    def unanswered(hook: CloudOSHook, session_id: str) -> dict[str, Any]:
        raise CloudOSTransientError("CloudOS API unreachable (test)")

    monkeypatch.setattr(CloudOSHook, "get_session", unanswered)
    session = cloudos_conn.add_session(name="s", status="ready", cost=9.0)
    assert guard(session["_id"]).poke(context()) is False
    assert cloudos_conn.abort_requests == []
    assert "CloudOS did not answer; the guard looks again later: CloudOS API unreachable (test)" in (
        log_messages()
    )


def test_a_session_cloudos_does_not_know_fails_the_guard_saying_so(cloudos_conn, unfinished):
    with pytest.raises(AirflowFailException) as failure:
        guard("0123456789abcdef01234567").poke(context())
    assert "0123456789abcdef01234567" in str(failure.value)
    assert "None" not in str(failure.value)


def test_the_guard_keeps_watching_while_the_body_runs_within_the_limits(cloudos_conn, unfinished):
    session = cloudos_conn.add_session(name="s", status="ready", cost=1.0)
    assert guard(session["_id"]).poke(context()) is False
    assert cloudos_conn.abort_requests == []


def test_the_guard_pauses_a_session_over_its_limit_and_fails_with_the_reason(cloudos_conn, unfinished):
    session = cloudos_conn.add_session(name="s", status="ready", cost=7.5)
    with pytest.raises(AirflowFailException) as failure:
        guard(session["_id"]).poke(context())
    assert f"session {session['_id']} cost $7.50 reached the limit of $5.00" in str(failure.value)
    assert "the session was paused" in str(failure.value)
    assert cloudos_conn.abort_requests == [(session["_id"], True, False)]


def test_the_guard_says_so_when_the_session_was_already_pausing(cloudos_conn, unfinished, monkeypatch):
    monkeypatch.setattr(CloudOSHook, "pause_session", lambda hook, session_id, upload_on_close: False)
    session = cloudos_conn.add_session(name="s", status="ready", cost=7.5)
    with pytest.raises(AirflowFailException) as failure:
        guard(session["_id"]).poke(context())
    assert str(failure.value).endswith("; the session was already pausing")


def test_the_guard_says_so_when_its_pause_failed(cloudos_conn, unfinished, monkeypatch):
    def refused(hook: CloudOSHook, session_id: str, upload_on_close: bool) -> bool:
        raise CloudOSStateError("CloudOS refused the pause (test)")

    monkeypatch.setattr(CloudOSHook, "pause_session", refused)
    session = cloudos_conn.add_session(name="s", status="ready", cost=7.5)
    with pytest.raises(AirflowFailException) as failure:
        guard(session["_id"]).poke(context())
    message = str(failure.value)
    assert message.startswith(f"Guard of the session block: session {session['_id']} cost $7.50 reached")
    assert message.endswith("; pausing it failed: CloudOS refused the pause (test)")


def test_the_guard_logs_what_it_paused_and_why(cloudos_conn, unfinished, log_messages):
    session = cloudos_conn.add_session(name="s", status="ready", cost=7.5)
    with pytest.raises(AirflowFailException):
        guard(session["_id"]).poke(context())
    assert f"Paused session {session['_id']} because its cost $7.50 reached the limit of $5.00" in (
        log_messages()
    )


def test_the_guard_fires_on_runtime_too_and_can_pause_without_saving(cloudos_conn, unfinished):
    session = cloudos_conn.add_session(name="s", status="ready", running_seconds=7200)
    with pytest.raises(AirflowFailException, match="runtime 2h reached the limit of 1h"):
        guard(session["_id"], max_cost_usd=None, max_runtime="1h", upload_on_close="false").poke(context())
    assert cloudos_conn.abort_requests == [(session["_id"], False, False)]


def test_the_guard_never_pauses_a_session_the_block_did_not_start(cloudos_conn, unfinished):
    session = cloudos_conn.add_session(name="s", status="ready", cost=9.0)
    with pytest.raises(AirflowFailException, match="the block did not start this session, so it was left"):
        guard(session["_id"], started="False").poke(context())
    assert cloudos_conn.abort_requests == []
    assert map_status(cloudos_conn.session(session["_id"])["status"]) == RUNNING


def test_the_guard_ends_when_the_body_has_finished(cloudos_conn, unfinished, log_messages):
    session = cloudos_conn.add_session(name="s", status="ready", cost=1.0)
    unfinished.clear()
    assert guard(session["_id"]).poke(context()) is True
    url = CloudOSHook().session_url(session["_id"])
    assert f"The block's tasks have finished; the guard ends ({url})" in log_messages()


@pytest.mark.parametrize("status", ["aborting", "aborted", "terminated"])
def test_the_guard_ends_when_the_session_no_longer_runs(cloudos_conn, unfinished, status, log_messages):
    # A stopping session must still be stopping when the guard reads it, however slow the machine.
    cloudos_conn.set_timings(StateTimings(aborting=600.0))
    session = cloudos_conn.add_session(name="s", status=status, cost=50.0)
    assert guard(session["_id"]).poke(context()) is True
    assert cloudos_conn.abort_requests == []
    shown = map_status(status)
    url = CloudOSHook().session_url(session["_id"])
    assert f"Session {session['_id']} is {shown}; nothing left to guard ({url})" in log_messages()


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"max_cost_usd": "0"}, "max_cost_usd='0'"),
        ({"max_cost_usd": "lots"}, "max_cost_usd='lots'"),
        ({"max_cost_usd": None, "max_runtime": "soon"}, "max_runtime='soon'"),
        ({"started": "perhaps"}, "started='perhaps'"),
        ({"upload_on_close": "maybe"}, "upload_on_close='maybe'"),
        ({"session_id": "not-an-id"}, "session_id='not-an-id'"),
    ],
)
def test_the_guard_refuses_bad_values_before_any_request(cloudos_conn, unfinished, kwargs, named):
    session = cloudos_conn.add_session(name="s", status="ready")
    options = {"session_id": session["_id"], **kwargs}
    with pytest.raises(AirflowFailException, match=named):
        guard(**options).poke(context())
    assert cloudos_conn.counters.requests("get") == 0


def test_a_guard_needs_a_limit():
    with pytest.raises(ValueError, match="give max_cost_usd and/or max_runtime"):
        CloudOSSessionBlockGuard(task_id="guard", session_id="x", body_task_ids=[])


def test_a_templated_limit_that_renders_to_nothing_is_refused(cloudos_conn, unfinished):
    session = cloudos_conn.add_session(name="s", status="ready")
    with pytest.raises(AirflowFailException, match="set no limit"):
        guard(session["_id"], max_cost_usd="None").poke(context())


@pytest.mark.parametrize(
    ("value", "expected"), [(True, True), ("True", True), ("False", False), ("None", False)]
)
def test_started_flag_reads_a_rendered_xcom(value, expected):
    assert started_flag(value) is expected


def test_the_teardown_pauses_a_session_the_block_started(cloudos_conn):
    session = cloudos_conn.add_session(name="s", status="ready")
    pause = CloudOSBlockPauseOperator(
        task_id="pause", session_id=session["_id"], started="True", poll_interval=0.05
    )
    pause.execute(context())
    assert map_status(cloudos_conn.session(session["_id"])["status"]) == PAUSED


def test_the_teardown_leaves_running_a_session_the_block_did_not_start(cloudos_conn, log_messages):
    session = cloudos_conn.add_session(name="s", status="ready")
    pause = CloudOSBlockPauseOperator(task_id="pause", session_id=session["_id"], started="False")
    assert pause.execute(context()) == session["_id"]
    assert cloudos_conn.abort_requests == []
    assert (
        f"Session {session['_id']} was running before this block started; leaving it running"
        in log_messages()
    )


def test_the_teardown_pauses_by_default(cloudos_conn):
    """A teardown made without ``started`` is the block's own: it pauses."""
    session = cloudos_conn.add_session(name="s", status="ready")
    CloudOSBlockPauseOperator(task_id="pause", session_id=session["_id"], poll_interval=0.05).execute(
        context()
    )
    assert [request[0] for request in cloudos_conn.abort_requests] == [session["_id"]]


def test_the_resume_setup_says_it_started_a_session_it_resumed(cloudos_conn):
    session = cloudos_conn.add_session(name="s", status="aborted")
    ctx = context()
    CloudOSBlockResumeOperator(task_id="resume", session_id=session["_id"], poll_interval=0.05).execute(ctx)
    assert ctx["ti"].xcom[XCOM_STARTED_SESSION] is True
    assert cloudos_conn.counters.requests("resume") == 1


def test_the_resume_setup_says_it_did_not_start_a_session_already_running(cloudos_conn):
    session = cloudos_conn.add_session(name="s", status="ready")
    ctx = context()
    CloudOSBlockResumeOperator(task_id="resume", session_id=session["_id"]).execute(ctx)
    assert ctx["ti"].xcom[XCOM_STARTED_SESSION] is False
    assert cloudos_conn.counters.requests("resume") == 0


def test_the_block_tasks_live_where_serialized_dags_name_their_module() -> None:
    """Serialized DAGs name ``operators.block`` as the tasks' module (``_task_module``)."""
    assert CloudOSBlockPauseOperator.__module__ == CloudOSSessionBlockGuard.__module__ == block.__name__
    assert block.CloudOSBlockPauseOperator is CloudOSBlockPauseOperator
    assert block.CloudOSSessionBlockGuard is CloudOSSessionBlockGuard
    assert block.CloudOSBlockResumeOperator is CloudOSBlockResumeOperator
