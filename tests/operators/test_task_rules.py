"""The rules every CloudOS task follows, checked on every operator and sensor class.

* ``cloudos_conn_id`` and ``workspace_id`` are templated everywhere; ``deferrable`` nowhere;
* the mixins' parameters behave like any operator parameter (``default_args``, ``.partial()``);
* every seconds-like parameter reads ``"1m"`` as 60 seconds;
* checks never write a rendered value back to the task.
"""

from __future__ import annotations

import datetime
import functools
import inspect
import json
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import DAG, AirflowFailException, BaseOperator, TaskDeferred
from operator_helpers import make_context, rendered

from airflow_provider_cloudos.operators import block, fleet, sessions
from airflow_provider_cloudos.operators.cloudos_task import CloudOSTaskMixin, InvalidLiteralParameter
from airflow_provider_cloudos.sensors import sessions as sensors
from airflow_provider_cloudos.testing import StateTimings

GOOD_ID = "a" * 24
#: Nothing changes state on its own: every wait defers (or polls) at least once.
STILL = StateTimings(scheduled=600, setup=600, initialising=600, aborting=600, resume_initialising=600)


def task_classes() -> list[type[BaseOperator]]:
    """Every operator and sensor class the provider exports."""
    found = []
    for module in (sessions, fleet, block, sensors):
        for name in module.__all__:
            value = getattr(module, name)
            if inspect.isclass(value) and issubclass(value, BaseOperator) and value not in found:
                found.append(value)  # once: the block's resume is the resume operator by another name
    return found


ALL_TASKS = task_classes()


def test_every_cloudos_task_is_found():
    names = {cls.__name__ for cls in ALL_TASKS}
    assert names == {
        "CloudOSCreateSessionOperator",
        "CloudOSStopSessionOperator",
        "CloudOSResumeSessionOperator",
        "CloudOSPauseSessionsOperator",
        "CloudOSSessionReportOperator",
        "CloudOSBlockPauseOperator",
        "CloudOSSessionBlockGuard",
        "CloudOSSessionSensor",
    }


@pytest.mark.parametrize("cls", ALL_TASKS, ids=lambda cls: cls.__name__)
def test_connection_and_workspace_are_templated_everywhere_and_deferrable_nowhere(cls):
    assert issubclass(cls, CloudOSTaskMixin), "connection, workspace and hook live in one place"
    fields = list(cls.template_fields)
    assert "cloudos_conn_id" in fields
    assert "workspace_id" in fields
    assert "deferrable" not in fields
    assert len(fields) == len(set(fields)), "a field listed twice renders twice"


@pytest.mark.parametrize("cls", ALL_TASKS, ids=lambda cls: cls.__name__)
def test_every_template_field_is_a_parameter_of_the_task(cls):
    """A template field names something a DAG author can set (``is_dry_run`` is ``dry_run``)."""
    parameters: set[str] = set()
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is not None:
            parameters |= set(inspect.signature(init).parameters)
    renamed = {"is_dry_run": "dry_run"}
    assert {renamed.get(field, field) for field in cls.template_fields} <= parameters


def test_default_args_and_partial_reach_the_shared_parameters():
    with DAG(
        "rules",
        schedule=None,
        start_date=datetime.datetime(2026, 1, 1),
        default_args={"cloudos_conn_id": "cloudos_other", "workspace_id": "b" * 24, "deferrable": True},
    ):
        create = sessions.CloudOSCreateSessionOperator(task_id="c", name="n", project_name="p")
        report = fleet.CloudOSSessionReportOperator(task_id="r")
        sensor = sensors.CloudOSSessionSensor(task_id="s", session_id=GOOD_ID)
        pause = fleet.CloudOSPauseSessionsOperator(task_id="p", cloudos_conn_id="mine")
        mapped = sessions.CloudOSStopSessionOperator.partial(task_id="m", cloudos_conn_id="cloudos_m").expand(
            session_id=[GOOD_ID]
        )
    for task in (create, report, sensor):
        assert (task.cloudos_conn_id, task.workspace_id) == ("cloudos_other", "b" * 24)
    assert create.deferrable is True
    assert sensor.deferrable is True
    assert pause.cloudos_conn_id == "mine", "a task's own value beats default_args"
    assert mapped.partial_kwargs["cloudos_conn_id"] == "cloudos_m"


def test_deferrable_is_refused_as_a_template_when_the_dag_is_parsed():
    with pytest.raises(InvalidLiteralParameter, match=r"deferrable='\{\{ params.d \}\}'"):
        sessions.CloudOSStopSessionOperator(task_id="stop", session_id=GOOD_ID, deferrable="{{ params.d }}")


# --- "1m" is a minute on every task -----------------------------------------------------------------


def deferred_poll_interval(task: Any) -> float:
    with pytest.raises(TaskDeferred) as deferred:
        task.execute(make_context())
    _, kwargs = deferred.value.trigger.serialize()
    return float(kwargs["poll_interval"])


def test_a_minute_between_polls_on_create_stop_and_resume(cloudos_conn):
    cloudos_conn.set_timings(STILL)
    wait = {"poll_interval": "1m", "timeout": "2h", "deferrable": True}
    create = sessions.CloudOSCreateSessionOperator(
        task_id="create", name="minute", project_name=cloudos_conn.project_name, **wait
    )
    assert deferred_poll_interval(create) == 60.0
    running = cloudos_conn.add_session(name="running", status="ready")["_id"]
    assert (
        deferred_poll_interval(
            sessions.CloudOSStopSessionOperator(task_id="stop", session_id=running, **wait)
        )
        == 60
    )
    paused = cloudos_conn.add_session(name="paused", status="aborted")["_id"]
    resume = sessions.CloudOSResumeSessionOperator(task_id="resume", session_id=paused, **wait)
    assert deferred_poll_interval(resume) == 60.0


def test_a_minute_between_polls_on_the_fleet_pause(cloudos_conn):
    cloudos_conn.set_timings(STILL)
    cloudos_conn.add_session(name="running", status="ready")
    pause = fleet.CloudOSPauseSessionsOperator(
        task_id="pause", wait_for_paused=True, deferrable=True, poll_interval="1m", timeout="1h"
    )
    assert deferred_poll_interval(pause) == 60.0


def test_a_minute_between_pokes_on_the_sensors(cloudos_conn):
    cloudos_conn.set_timings(STILL)
    sid = cloudos_conn.add_session(name="starting", status="setup")["_id"]
    sensor = sensors.CloudOSSessionSensor(
        task_id="wait", session_id=sid, poke_interval="1m", timeout="2h", deferrable=True
    )
    assert (sensor.poke_interval, sensor.timeout) == (60.0, 7200.0)
    assert deferred_poll_interval(sensor) == 60.0
    guard = block.CloudOSSessionBlockGuard(
        task_id="guard", session_id=sid, body_task_ids=["work"], max_cost_usd=5, poke_interval="1m"
    )
    assert guard.poke_interval == 60.0


@pytest.mark.parametrize("value", ["soon", "0s", -1, True])
def test_a_bad_sensor_interval_names_the_parameter(value):
    with pytest.raises(ValueError, match=rf"Invalid poke_interval={value!r}"):
        sensors.CloudOSSessionSensor(task_id="wait", session_id=GOOD_ID, poke_interval=value)


# --- checks read rendered values, never write them ----------------------------------------------------


def template_values(task: Any) -> dict[str, Any]:
    return {field: getattr(task, field) for field in task.template_fields}


def run_and_check_unchanged(task: Any) -> Any:
    before = template_values(task)
    result = task.execute(make_context())
    assert template_values(task) == before
    return result


def test_the_fleet_pause_keeps_its_rendered_strings(cloudos_conn):
    cloudos_conn.add_session(name="running", status="ready")
    factory = functools.partial(fleet.CloudOSPauseSessionsOperator, task_id="pause", dry_run="{{ params.d }}")
    task = rendered(
        factory,
        upload_on_close="false",
        force="false",
        wait_for_paused="false",
        only_owner="false",
        poll_interval="1m",
        timeout="1h",
    )
    task.is_dry_run = "true"  # what dry_run rendered to
    result = run_and_check_unchanged(task)
    assert result["dry_run"] is True
    assert task.is_dry_run == "true"
    assert cloudos_conn.counters.requests("abort") == 0


def test_the_session_operators_keep_their_rendered_strings(cloudos_conn):
    cloudos_conn.set_timings(StateTimings.fast())
    create = rendered(
        functools.partial(
            sessions.CloudOSCreateSessionOperator, task_id="create", project_name=cloudos_conn.project_name
        ),
        name="strings",
        spot="false",
        storage_size="500",
        wait_for_running="false",
        stop_on_kill="true",
        poll_interval="1s",
        timeout="1m",
    )
    sid = run_and_check_unchanged(create)
    stop = rendered(
        functools.partial(sessions.CloudOSStopSessionOperator, task_id="stop"),
        session_id=sid,
        wait_for_paused="false",
        upload_on_close="true",
    )
    run_and_check_unchanged(stop)
    paused = cloudos_conn.add_session(name="paused", status="aborted")["_id"]
    resume = rendered(
        functools.partial(sessions.CloudOSResumeSessionOperator, task_id="resume"),
        session_id=paused,
        wait_for_running="false",
        storage_size="600",
    )
    run_and_check_unchanged(resume)


def test_the_report_and_the_sensor_keep_their_rendered_strings(cloudos_conn):
    sid = cloudos_conn.add_session(name="running", status="ready")["_id"]
    report = rendered(
        functools.partial(fleet.CloudOSSessionReportOperator, task_id="report"),
        include_access="true",
        only_owner="false",
        include_archived="false",
    )
    run_and_check_unchanged(report)
    sensor = rendered(
        functools.partial(sensors.CloudOSSessionSensor, task_id="wait", poke_interval=0.02, timeout=20),
        session_id=sid,
        target_status="running",
        max_cost_usd="50",
    )
    run_and_check_unchanged(sensor)


def test_a_malformed_workspace_fails_every_task_before_any_request(cloudos_conn):
    """The one workspace check, for a fleet task as for a session task and the sensor."""
    factories: list[Any] = [
        functools.partial(fleet.CloudOSSessionReportOperator, task_id="report"),
        functools.partial(fleet.CloudOSPauseSessionsOperator, task_id="pause"),
        functools.partial(sessions.CloudOSStopSessionOperator, task_id="stop", session_id=GOOD_ID),
        functools.partial(sensors.CloudOSSessionSensor, task_id="wait", session_id=GOOD_ID),
    ]
    for factory in factories:
        with pytest.raises(AirflowFailException, match="Invalid workspace_id='ws-1'"):
            rendered(factory, workspace_id="ws-1").execute(make_context())
    assert cloudos_conn.counters.requests() == 0


def test_a_task_without_a_workspace_says_where_to_set_one_before_any_request(cloudos_conn, monkeypatch):
    """The one workspace check: the same words from a fleet task, a session task and the sensor."""
    monkeypatch.setenv(
        "AIRFLOW_CONN_NO_WORKSPACE",
        json.dumps({"conn_type": "cloudos", "host": cloudos_conn.url, "password": cloudos_conn.api_key}),
    )
    factories: list[Any] = [
        functools.partial(fleet.CloudOSSessionReportOperator, task_id="report"),
        functools.partial(fleet.CloudOSPauseSessionsOperator, task_id="pause"),
        functools.partial(sessions.CloudOSStopSessionOperator, task_id="stop", session_id=GOOD_ID),
        functools.partial(sensors.CloudOSSessionSensor, task_id="wait", session_id=GOOD_ID),
        functools.partial(sensors.CloudOSSessionSensor, task_id="wait", session_id=GOOD_ID, deferrable=True),
    ]
    for factory in factories:
        with pytest.raises(AirflowFailException) as raised:
            rendered(factory, cloudos_conn_id="no_workspace").execute(make_context())
        assert str(raised.value) == (
            "No workspace: set workspace_id on the task or in the extra of connection 'no_workspace'"
        )
    assert cloudos_conn.counters.requests() == 0
