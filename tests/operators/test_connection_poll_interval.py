"""The connection's ``poll_interval`` extra: how often a wait checks when its task sets no interval.

DAG files keep the intervals a real CloudOS deserves (30 s by default); the simulator's connection
says "every second", so the same files run against it without waiting on 30 s polls. A task that
sets its own interval keeps it, whatever the connection says.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import TaskDeferred
from operator_helpers import make_context, trigger_kwargs

from airflow_provider_cloudos.operators.fleet import CloudOSPauseSessionsOperator
from airflow_provider_cloudos.operators.sessions import CloudOSStopSessionOperator
from airflow_provider_cloudos.sensors.sessions import CloudOSSessionSensor
from airflow_provider_cloudos.testing import CloudOSSimulator, StateTimings, demo
from airflow_provider_cloudos.testing.simulator import SIMULATOR_POLL_SECONDS

#: A session put in ``aborting`` or ``setup`` stays there for the whole test.
SLOW = StateTimings(setup=600.0, aborting=600.0)


@pytest.fixture
def slow(cloudos_conn: CloudOSSimulator) -> CloudOSSimulator:
    cloudos_conn.set_timings(SLOW)
    return cloudos_conn


def use_poll_interval(monkeypatch: pytest.MonkeyPatch, simulator: CloudOSSimulator, seconds: Any) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_CLOUDOS_DEFAULT", simulator.connection_json(poll_interval=seconds))


def deferred_poll(task: Any) -> float:
    with pytest.raises(TaskDeferred) as deferred:
        task.execute(make_context())
    return float(deferred.value.trigger.serialize()[1]["poll_interval"])


def test_an_operator_without_an_interval_polls_as_its_connection_says(slow, monkeypatch):
    use_poll_interval(monkeypatch, slow, 1.5)
    session_id = slow.add_session(name="busy", status="ready")["_id"]
    stop = CloudOSStopSessionOperator(task_id="stop", session_id=session_id, deferrable=True)
    with pytest.raises(TaskDeferred) as deferred:
        stop.execute(make_context())
    assert trigger_kwargs(deferred.value)["poll_interval"] == 1.5
    assert stop.poll_interval is None  # the task still shows what the DAG gave it


def test_an_interval_the_task_sets_wins_over_the_connections(slow, monkeypatch):
    use_poll_interval(monkeypatch, slow, 1.5)
    session_id = slow.add_session(name="busy", status="ready")["_id"]
    stop = CloudOSStopSessionOperator(
        task_id="stop", session_id=session_id, deferrable=True, poll_interval="1m"
    )
    assert deferred_poll(stop) == 60.0


def test_without_the_extra_the_default_stays_30s(slow):
    session_id = slow.add_session(name="busy", status="ready")["_id"]
    assert json.loads(slow.connection_json())["extra"] == {"workspace_id": slow.workspace_id}
    assert (
        deferred_poll(CloudOSStopSessionOperator(task_id="s", session_id=session_id, deferrable=True)) == 30.0
    )


def test_the_fleet_pause_waits_as_its_connection_says(slow, monkeypatch):
    use_poll_interval(monkeypatch, slow, 2)
    slow.add_session(name="forgotten", status="ready")
    pause = CloudOSPauseSessionsOperator(task_id="pause", wait_for_paused=True, deferrable=True)
    assert deferred_poll(pause) == 2.0


def test_a_sensor_without_a_poke_interval_pokes_as_its_connection_says(slow, monkeypatch):
    use_poll_interval(monkeypatch, slow, 3)
    session_id = slow.add_session(name="starting", status="setup")["_id"]
    left_out = CloudOSSessionSensor(task_id="wait", session_id=session_id, deferrable=True, timeout=600)
    assert deferred_poll(left_out) == 3.0
    given = CloudOSSessionSensor(
        task_id="wait2", session_id=session_id, deferrable=True, timeout=600, poke_interval=300
    )
    assert deferred_poll(given) == 300.0


@pytest.mark.parametrize(
    ("bad", "problem"),
    [
        ("often", "expected a duration such as '30s', '30m', '2h' or '1d', or a number of seconds"),
        (True, "expected a duration such as '30s', '30m', '2h' or '1d', or a number of seconds"),
        (0, "the duration must be greater than 0"),
        (-1, "the duration must be greater than 0"),
    ],
)
def test_a_bad_extra_is_refused_by_name(cloudos_conn, monkeypatch, bad, problem):
    """The extra is read by the parser of every task's durations, and refused in its words."""
    use_poll_interval(monkeypatch, cloudos_conn, bad)
    session_id = cloudos_conn.add_session(name="busy", status="ready")["_id"]
    stop = CloudOSStopSessionOperator(task_id="stop", session_id=session_id, deferrable=True)
    with pytest.raises(Exception, match=re.escape(f"Invalid poll_interval={bad!r}: {problem}")):
        stop.execute(make_context())


def test_the_simulators_printed_connection_and_the_demos_poll_every_second(monkeypatch):
    assert SIMULATOR_POLL_SECONDS == 1.0
    with CloudOSSimulator() as simulator:
        printed = json.loads(simulator.environment()["AIRFLOW_CONN_CLOUDOS_DEFAULT"])
    assert printed["extra"]["poll_interval"] == SIMULATOR_POLL_SECONDS
    handed: list[str] = []

    def fake_airflow(arguments: Any, env: Any, on_line: Any, timeout: float) -> int:
        handed.append(env["AIRFLOW_CONN_CLOUDOS_DEFAULT"])
        return 0

    monkeypatch.setattr(demo, "run_airflow", fake_airflow)
    assert demo.main(["--timings", "fast"]) == 0
    assert {json.loads(connection)["extra"]["poll_interval"] for connection in handed} == {1.0}
