"""``cloudos_session``: the task group it builds, checked on DAGs built here (no run, no network).

The runs themselves (body succeeds or fails, create fails, guard fires, resume form) are in
tests/example_dags/test_session_block_runs.py.
"""

from __future__ import annotations

import json
import subprocess
import sys

import jinja2
import pendulum
import pytest
from airflow.providers.common.compat.sdk import DAG, TaskGroup, task

from airflow_provider_cloudos import cloudos_session
from airflow_provider_cloudos.operators.block import (
    CloudOSBlockResumeOperator,
    CloudOSSessionBlockGuard,
)
from airflow_provider_cloudos.operators.sessions import CloudOSCreateSessionOperator
from airflow_provider_cloudos.session_block import default_session_name

START = pendulum.datetime(2025, 1, 1, tz="UTC")


def new_dag(dag_id: str = "d") -> DAG:
    return DAG(dag_id=dag_id, schedule=None, start_date=START, catchup=False)


@task
def step(value: object = None) -> None:
    print(value)


def test_the_block_is_one_group_with_predictable_task_ids():
    with new_dag() as dag, cloudos_session("analysis", project_name="p", max_cost_usd=5) as session:
        first = step.override(task_id="first")(session.url)
        step.override(task_id="second")(session.summary) << first

    assert set(dag.task_ids) == {
        "analysis.create",
        "analysis.first",
        "analysis.second",
        "analysis.guard",
        "analysis.pause",
    }
    assert list(dag.task_group.children) == ["analysis"]
    create, pause, guard = (dag.get_task(f"analysis.{name}") for name in ("create", "pause", "guard"))
    assert isinstance(create, CloudOSCreateSessionOperator)
    assert create.is_setup
    assert pause.is_teardown
    assert pause.upstream_task_ids == {"analysis.create", "analysis.second"}
    assert guard.upstream_task_ids == {"analysis.create"}
    assert isinstance(guard, CloudOSSessionBlockGuard)
    assert guard.body_task_ids == ["analysis.first", "analysis.second"]
    assert guard.mode == "reschedule"
    assert dag.get_task("analysis.first").upstream_task_ids == {"analysis.create"}
    # Downstream tasks of the group wait for the body and the guard, not for the teardown.
    group = dag.task_group.children["analysis"]
    assert {t.task_id for t in group.get_leaves()} == {"analysis.second", "analysis.guard"}
    assert {t.task_id for t in group.get_roots()} == {"analysis.create"}


def test_the_session_references_render_as_xcom_pulls():
    with new_dag("refs"), cloudos_session("g", project_name="p") as session:
        pass
    assert str(session.url) == (
        "{{ task_instance.xcom_pull(task_ids='g.create', dag_id='refs', key='session_url') }}"
    )
    assert "key='session_summary'" in str(session.summary)
    assert "key='return_value'" in str(session.session_id)


def test_without_limits_there_is_no_guard_and_an_empty_body_is_create_then_pause():
    with new_dag() as dag, cloudos_session("g", project_name="p"):
        pass
    assert set(dag.task_ids) == {"g.create", "g.pause"}
    assert dag.get_task("g.pause").upstream_task_ids == {"g.create"}


def test_tasks_in_a_nested_group_are_the_body_too():
    with new_dag() as dag, cloudos_session("g", project_name="p", max_runtime="1h"), TaskGroup("inner"):
        step.override(task_id="a")() >> step.override(task_id="b")()
    assert dag.get_task("g.inner.a").upstream_task_ids == {"g.create"}
    assert "g.inner.b" in dag.get_task("g.pause").upstream_task_ids
    assert dag.get_task("g.guard").body_task_ids == ["g.inner.a", "g.inner.b"]


def test_the_create_form_passes_the_create_parameters_and_the_guard_to_the_setup():
    with (
        new_dag(),
        cloudos_session(
            "g", name="mine", session_type="vscode", project_name="p", max_cost_usd=7, poll_interval=5
        ) as session,
    ):
        pass
    create = session.setup
    assert (create.name, create.session_type, create.max_cost_usd, create.poll_interval) == (
        "mine",
        "vscode",
        7,
        5,
    )
    assert session.guard is not None
    assert session.guard.poke_interval == 5
    assert session.teardown.poll_interval == 5


def test_the_resume_form_resumes_by_id_and_reads_whether_it_started_the_session():
    with new_dag() as dag, cloudos_session("team", session_id="{{ params.sid }}", max_cost_usd=3) as session:
        pass
    assert isinstance(session.setup, CloudOSBlockResumeOperator)
    assert set(dag.task_ids) == {"team.resume", "team.guard", "team.pause"}
    current = "ti.xcom_pull(task_ids='team.resume', key='started_session')"
    earlier = "ti.xcom_pull(task_ids='team.resume', key='started_by_block')"
    started = f"{{{{ {current} if {current} is not none else {earlier} }}}}"
    assert dag.get_task("team.pause").started == started
    assert dag.get_task("team.guard").started == started


def test_a_name_and_a_session_id_together_are_refused():
    refused = r"give name= to create a session or session_id= to resume"
    with new_dag(), pytest.raises(ValueError, match=refused), cloudos_session("g", name="x", session_id="s"):
        pass


def test_the_default_name_is_unique_to_the_run_and_the_group_and_fits_cloudos():
    template = jinja2.Template(default_session_name("outer.block"))
    short = template.render(dag={"dag_id": "d"}, run_id="manual__2025-01-01")
    assert short == "d-outer.block-manual__2025-01-01"
    long_run = "scheduled__" + "x" * 120
    name = template.render(dag={"dag_id": "d"}, run_id=long_run)
    assert len(name) == 100
    assert name.endswith(long_run[-50:])


def test_importing_the_package_loads_no_airflow_until_the_block_is_used():
    probe = (
        "import json, sys\n"
        "import airflow_provider_cloudos as p\n"
        "before = sorted(m for m in sys.modules if m == 'airflow' or m.startswith('airflow.'))\n"
        "from airflow_provider_cloudos import cloudos_session\n"
        "print(json.dumps([before, cloudos_session.__module__, 'airflow' in sys.modules]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    before, module, loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert before == []
    assert module == "airflow_provider_cloudos.session_block"
    assert loaded is True


def test_an_unknown_package_attribute_is_an_attribute_error():
    import airflow_provider_cloudos

    with pytest.raises(AttributeError, match="no attribute 'cloudos_sessions'"):
        _ = airflow_provider_cloudos.cloudos_sessions


@pytest.mark.parametrize(
    ("given", "seconds"),
    [
        ({"guard_interval": "1m"}, 60.0),
        ({"guard_interval": 15, "poll_interval": 5}, 15.0),
        ({"poll_interval": "30s"}, 30.0),
        ({"poll_interval": "{{ var.value.poll }}"}, 60.0),
        ({"guard_interval": "None", "poll_interval": None}, 60.0),
    ],
)
def test_the_guard_reads_its_interval_as_every_duration_is_read(given, seconds):
    with new_dag(), cloudos_session("g", project_name="p", max_cost_usd=3, **given) as session:
        pass
    assert session.guard is not None
    assert session.guard.poke_interval == seconds


def test_a_bad_guard_interval_is_refused_by_name():
    refused = r"^Invalid guard_interval='soon': expected a duration"
    with (
        new_dag(),
        pytest.raises(ValueError, match=refused),
        cloudos_session("g", project_name="p", max_cost_usd=3, guard_interval="soon"),
    ):
        pass


@pytest.mark.parametrize("unset", ["", "None", " null "])
def test_unset_block_parameters_follow_the_one_rule(unset):
    with new_dag() as dag, cloudos_session("g", project_name="p", session_id=unset, max_runtime=unset):
        pass
    assert set(dag.task_ids) == {"g.create", "g.pause"}, (
        "an unset session id creates; an unset limit: no guard"
    )
