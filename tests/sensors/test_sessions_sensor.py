from __future__ import annotations

import time

import pytest
from airflow.providers.common.compat.sdk import (
    AirflowException,
    AirflowFailException,
    AirflowSensorTimeout,
    TaskDeferred,
)

from airflow_provider_cloudos.operators.cloudos_task import InvalidLiteralParameter
from airflow_provider_cloudos.sensors.sessions import CloudOSSessionSensor
from airflow_provider_cloudos.testing import StateTimings
from airflow_provider_cloudos.triggers.sessions import CloudOSSessionTrigger


def sensor(session_id: str, **kwargs) -> CloudOSSessionSensor:
    options = {"task_id": "wait", "session_id": session_id, "poke_interval": 0.02, "timeout": 20}
    options.update(kwargs)
    return CloudOSSessionSensor(**options)


def test_poke_mode_waits_until_running_and_returns_the_summary(cloudos_conn):
    session = cloudos_conn.add_session(name="poked", status="scheduled")
    result = sensor(session["_id"]).execute({})
    assert result["id"] == session["_id"]
    assert result["status"] == "running"


def test_poke_mode_waits_for_paused(cloudos_conn):
    session = cloudos_conn.add_session(name="pausing", status="aborting")
    assert sensor(session["_id"], target_status="paused").execute({})["status"] == "paused"


@pytest.mark.parametrize("unset", ["", "None", "null"])
def test_unset_statuses_mean_the_defaults(cloudos_conn, unset):
    session = cloudos_conn.add_session(name="s", status="ready")
    task = sensor(session["_id"], target_status=unset, failure_status=unset)
    assert task.execute({})["status"] == "running"


def test_poke_accepts_a_list_of_targets(cloudos_conn):
    session = cloudos_conn.add_session(name="either", status="aborted")
    assert sensor(session["_id"], target_status=["running", "paused"]).execute({})["status"] == "paused"


def test_fails_fast_on_terminated(cloudos_conn):
    session = cloudos_conn.add_session(name="gone", status="terminated")
    with pytest.raises(AirflowFailException, match="terminated while waiting for running"):
        sensor(session["_id"]).execute({})
    assert cloudos_conn.counters.requests("get") == 1


def test_poke_mode_timeout_is_airflows_sensor_timeout(cloudos_conn):
    cloudos_conn.set_timings(StateTimings(scheduled=0.0, setup=60.0))
    session = cloudos_conn.add_session(name="slow", status="setup")
    with pytest.raises(AirflowSensorTimeout):
        sensor(session["_id"], timeout=0.2).execute({})


def test_reschedule_mode_gives_back_the_slot_between_pokes(cloudos_conn, airflow_db):
    try:
        from airflow.sdk.exceptions import AirflowRescheduleException
    except ImportError:  # Airflow 2.11
        from airflow.exceptions import AirflowRescheduleException

    cloudos_conn.set_timings(StateTimings(scheduled=0.0, setup=60.0))
    session = cloudos_conn.add_session(name="resched", status="setup")
    task = sensor(session["_id"], mode="reschedule", poke_interval=60)
    context = {"ti": _FakeTI()}
    with pytest.raises(AirflowRescheduleException):
        task.execute(context)


class _FakeTI:
    """Enough of a task instance for reschedule mode's first-try bookkeeping.

    Airflow 2.11 looks the first try's start up in the metadata database by these ids.
    """

    dag_id = "sensor_dag"
    task_id = "wait"
    run_id = "manual__1"
    map_index = -1
    try_number = 1
    max_tries = 0
    start_date = None

    def get_first_reschedule_date(self, context):
        return None


def test_deferrable_defers_with_the_right_trigger(cloudos_conn):
    cloudos_conn.set_timings(StateTimings(scheduled=0.0, setup=60.0))
    session = cloudos_conn.add_session(name="deferred", status="setup")
    before = time.time()
    with pytest.raises(TaskDeferred) as deferred:
        sensor(session["_id"], deferrable=True, timeout=600, poke_interval=15, target_status="ready").execute(
            {}
        )
    trigger = deferred.value.trigger
    assert isinstance(trigger, CloudOSSessionTrigger)
    assert deferred.value.method_name == "execute_complete"
    _, kwargs = trigger.serialize()
    assert kwargs["session_id"] == session["_id"]
    assert kwargs["target_statuses"] == ["running"]
    assert kwargs["failure_statuses"] == ["terminated"]
    assert kwargs["poll_interval"] == 15
    assert before + 600 <= kwargs["end_time"] <= time.time() + 600
    assert deferred.value.timeout.total_seconds() > 600, "the framework timeout is only a safety net"


def test_deferrable_does_not_defer_when_already_there(cloudos_conn):
    session = cloudos_conn.add_session(name="already", status="ready")
    assert sensor(session["_id"], deferrable=True).execute({})["status"] == "running"


@pytest.mark.parametrize(
    ("event", "exception", "text"),
    [
        ({"status": "failure", "message": "Session x is terminated"}, AirflowFailException, "terminated"),
        ({"status": "timeout", "message": "did not become running"}, AirflowSensorTimeout, "did not become"),
        ({"status": "error", "message": "kept failing"}, AirflowException, "kept failing"),
        ({"status": "bogus"}, AirflowException, "Unexpected event"),
        (None, AirflowException, "Unexpected event"),
    ],
)
def test_execute_complete_turns_events_into_clear_exceptions(event, exception, text):
    with pytest.raises(exception, match=text):
        sensor("a" * 24).execute_complete({}, event)


def test_execute_complete_returns_the_summary():
    event = {"status": "success", "session_id": "a" * 24, "message": "ok", "summary": {"id": "a" * 24}}
    assert sensor("a" * 24).execute_complete({}, event) == {"id": "a" * 24}


@pytest.mark.parametrize(
    ("kwargs", "text"),
    [
        ({"session_id": "not-an-id"}, r"session_id='not-an-id'"),
        ({"session_id": "a" * 24, "target_status": "sleeping"}, r"target_status='sleeping'"),
        ({"session_id": "a" * 24, "failure_status": ["exploded"]}, r"failure_status='exploded'"),
    ],
)
def test_bad_inputs_fail_before_any_request(cloudos_conn, kwargs, text):
    """Rendered from templates, refused by ``execute``; written as literals, refused when built."""
    task = CloudOSSessionSensor(
        task_id="bad", poke_interval=0.01, timeout=1, **dict.fromkeys(kwargs, "{{ x }}")
    )
    for parameter, value in kwargs.items():
        setattr(task, parameter, value)
    with pytest.raises(AirflowFailException, match=text):
        task.execute({})
    with pytest.raises(InvalidLiteralParameter, match=text):
        CloudOSSessionSensor(task_id="bad", poke_interval=0.01, timeout=1, **kwargs)
    assert cloudos_conn.counters.requests() == 0
