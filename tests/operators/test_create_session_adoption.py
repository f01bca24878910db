"""A live session with the task's name is carried on with only when it is what the task asks for.

Driven through the operator against the simulator: a re-run of the same name with the same
settings makes no second session; one with other settings fails and shows both; a session whose
id an earlier try stored is carried on with as it is.
"""

from __future__ import annotations

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException
from operator_helpers import FAST, FakeTaskStateStore, make_context

from airflow_provider_cloudos.core.status import RUNNING, map_status
from airflow_provider_cloudos.operators.sessions import STATE_STORE_KEY, CloudOSCreateSessionOperator

NAME = "analysis-2026-11-29"


def create(**kwargs) -> CloudOSCreateSessionOperator:
    options = {"task_id": "create", "name": NAME, "project_name": "genomics", **FAST}
    options.update(kwargs)
    return CloudOSCreateSessionOperator(**options)


def test_a_rerun_with_the_same_settings_carries_on_with_the_live_session(cloudos_conn, log_messages):
    asked = {"session_type": "rstudio", "instance_type": "m5.2xlarge", "storage_size": 200, "cost_limit": 20}
    first = create(**asked).execute(make_context())

    second = create(**asked).execute(make_context())

    assert second == first
    assert cloudos_conn.counters.requests("create") == 1
    assert any("which has the settings this task asks for" in m for m in log_messages())


def test_a_same_named_session_with_other_settings_is_refused_showing_both(cloudos_conn):
    theirs = cloudos_conn.add_session(
        name=NAME, status="ready", backend="vscode", instance_type="c5.xlarge", storage_size_gb=1000
    )

    task = create(session_type="rstudio", instance_type="m5.2xlarge", storage_size=200)
    with pytest.raises(AirflowFailException) as refused:
        task.execute(make_context())

    message = str(refused.value)
    assert f"A session named {NAME!r} already exists ({theirs['_id']}, running" in message
    assert "session_type: the task asks for 'rstudio', the session has 'vscode'" in message
    assert "instance_type: the task asks for 'm5.2xlarge', the session has 'c5.xlarge'" in message
    assert "storage_size: the task asks for 200, the session has 1000" in message
    assert "project:" not in message.split("The task asks for:")[0]  # the same project is no difference
    assert "The task asks for:  session_type='rstudio', execution_platform='aws'" in message
    assert "The session has:    session_type='vscode', execution_platform='aws'" in message
    for way_out in ("another name", "reuse_existing=False", f"stop (pause) session {theirs['_id']}"):
        assert way_out in message
    assert cloudos_conn.counters.requests("create") == 0
    assert map_status(cloudos_conn.session(theirs["_id"])["status"]) == RUNNING  # left alone


@pytest.mark.parametrize(
    ("asked", "named"),
    [
        ({"project_name": "genomics-archive"}, "project: the task asks for 'genomics-archive'"),
        ({"cost_limit": 50}, "cost_limit: the task asks for 50, the session has -1"),
        ({"shared": True}, "shared: the task asks for True, the session has False"),
        ({"mounts": ["genomics/Data/samples.csv"]}, "mounts: the task asks for ('samples.csv')"),
    ],
)
def test_each_setting_the_api_reports_is_compared(cloudos_conn, asked, named):
    cloudos_conn.add_session(name=NAME, status="ready")
    with pytest.raises(AirflowFailException, match="already exists") as refused:
        create(**asked).execute(make_context())
    assert named in str(refused.value)
    assert cloudos_conn.counters.requests("create") == 0


def test_a_matching_session_among_same_named_ones_is_the_one_taken(cloudos_conn):
    cloudos_conn.add_session(name=NAME, status="ready", storage_size_gb=1000)
    ours = cloudos_conn.add_session(name=NAME, status="ready")
    assert create().execute(make_context()) == ours["_id"]
    assert cloudos_conn.counters.requests("create") == 0


def test_the_session_an_earlier_try_stored_is_carried_on_with(cloudos_conn):
    store = FakeTaskStateStore()
    earlier = cloudos_conn.add_session(name=NAME, status="ready", storage_size_gb=1000)
    store.set(STATE_STORE_KEY, earlier["_id"])

    assert create(storage_size=200).execute(make_context(store, try_number=2)) == earlier["_id"]
    assert cloudos_conn.counters.requests("create") == 0


def test_reuse_existing_false_is_a_way_out(cloudos_conn):
    theirs = cloudos_conn.add_session(name=NAME, status="ready", backend="vscode")
    mine = create(reuse_existing=False).execute(make_context())
    assert mine != theirs["_id"]
    assert cloudos_conn.counters.requests("create") == 1
