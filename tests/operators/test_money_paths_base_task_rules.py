"""The rules every waiting CloudOS task inherits: its default wait, its workspace check and its
``execution_timeout`` as a bound on every API call.

A wrong default poll interval or wait changes what the triggerer does for every DAG that leaves
them out; a refused workspace must be named so the user can fix it without reading code; and a
try's ``execution_timeout`` must cut a call to a stalled server, or the worker (and the session
it may be starting) is held past the time the DAG author gave.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException, TaskDeferred
from operator_helpers import make_context, rendered, trigger_kwargs

from airflow_provider_cloudos.operators.sessions import CloudOSStopSessionOperator
from airflow_provider_cloudos.testing import CloudOSSimulator, StateTimings

#: A session put in ``aborting`` stays there for the whole test.
SLOW_PAUSE = StateTimings(aborting=60.0)


def stop_task(session_id: str = "a" * 24, **overrides: object) -> CloudOSStopSessionOperator:
    return CloudOSStopSessionOperator(task_id="stop", session_id=session_id, **overrides)  # type: ignore[arg-type]


def test_a_task_left_with_its_default_wait_polls_every_30s_for_at_most_30_minutes(
    cloudos_conn: CloudOSSimulator,
) -> None:
    cloudos_conn.set_timings(SLOW_PAUSE)
    session_id = cloudos_conn.add_session(name="busy", status="ready")["_id"]
    before = time.time()
    with pytest.raises(TaskDeferred) as deferred:
        stop_task(session_id, deferrable=True).execute(make_context())
    after = time.time()
    kwargs = trigger_kwargs(deferred.value)
    assert kwargs["poll_interval"] == 30.0
    assert before + 1800 <= kwargs["end_time"] <= after + 1800


@pytest.mark.parametrize(
    ("workspace_id", "problem"),
    [
        (
            "not-a-workspace",
            "Invalid workspace_id='not-a-workspace': a workspace id is 24 hexadecimal characters",
        ),
        (42, "Invalid workspace_id=42: expected a workspace id string, got int"),
    ],
)
def test_a_bad_workspace_is_refused_naming_it_before_any_call(
    cloudos_conn: CloudOSSimulator, workspace_id: object, problem: str
) -> None:
    task = rendered(lambda **values: stop_task(**values), workspace_id=workspace_id)
    with pytest.raises(AirflowFailException) as raised:
        task.execute(make_context())
    assert str(raised.value) == problem
    assert cloudos_conn.counters.requests() == 0


def test_execution_timeout_cuts_a_call_that_outlives_it_and_says_so(cloudos_conn: CloudOSSimulator) -> None:
    """The operator's own timeout (30 min) is far away: only ``execution_timeout`` can end this call."""
    session_id = cloudos_conn.add_session(name="busy", status="ready")["_id"]
    cloudos_conn.faults.only_endpoints = {"get"}
    cloudos_conn.faults.latency = 3.0
    task = stop_task(session_id, execution_timeout=timedelta(seconds=1), wait_for_paused=False)
    with pytest.raises(AirflowException) as raised:
        task.execute(make_context())
    assert "the deadline of execution_timeout (1s) was reached" in str(raised.value), raised.value
    assert cloudos_conn.counters.requests("abort") == 0
