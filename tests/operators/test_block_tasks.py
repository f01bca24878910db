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

from airflow_provider_cloudos.core.status import PAUSED, RUNNING, map_status
from airflow_provider_cloudos.operators import block_tasks
from airflow_provider_cloudos.operators.block_tasks import (
    XCOM_STARTED_SESSION,
    CloudOSBlockPauseOperator,
    CloudOSBlockResumeOperator,
    CloudOSSessionBlockGuard,
    started_flag,
)


class FakeTI:
    def __init__(self) -> None:
        self.xcom: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcom[key] = value


@pytest.fixture
def unfinished(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The body's unfinished tasks, as Airflow would report them; a test edits the list."""
    pending = ["work.report"]
    monkeypatch.setattr(block_tasks, "unfinished_tasks", lambda dag_id, run_id, task_ids: list(pending))
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


def test_the_guard_ends_when_the_body_has_finished(cloudos_conn, unfinished):
    session = cloudos_conn.add_session(name="s", status="ready", cost=1.0)
    unfinished.clear()
    assert guard(session["_id"]).poke(context()) is True


@pytest.mark.parametrize("status", ["aborting", "aborted", "terminated"])
def test_the_guard_ends_when_the_session_no_longer_runs(cloudos_conn, unfinished, status):
    session = cloudos_conn.add_session(name="s", status=status, cost=50.0)
    assert guard(session["_id"]).poke(context()) is True
    assert cloudos_conn.abort_requests == []


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


def test_the_teardown_leaves_running_a_session_the_block_did_not_start(cloudos_conn):
    session = cloudos_conn.add_session(name="s", status="ready")
    pause = CloudOSBlockPauseOperator(task_id="pause", session_id=session["_id"], started="False")
    assert pause.execute(context()) == session["_id"]
    assert cloudos_conn.abort_requests == []


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


def test_the_old_module_path_of_the_block_tasks_still_imports_them() -> None:
    """Serialized DAGs written before the move name ``operators.block`` as the tasks' module."""
    from airflow_provider_cloudos.operators import block

    assert block.CloudOSBlockPauseOperator is CloudOSBlockPauseOperator
    assert block.CloudOSSessionBlockGuard is CloudOSSessionBlockGuard
    assert block.CloudOSBlockResumeOperator is CloudOSBlockResumeOperator
