"""A fleet pause that waits: in the worker, the clock the wait is measured on and what a read that
fails during it does; deferred, what the batch trigger is told and what comes back from it.

``wait_for_paused`` is the promise that the task ends only when the spending has stopped. A wait
that counts its time from the wrong moment misreports it; one that loses the session a read
failed for waits for the wrong thing; a trigger that reads another connection or workspace, or
results read back from another task, report someone else's sessions.

Time is fake throughout: the operator's wall clock moves only when it sleeps, and moves the
simulator's clock with it, so sessions settle at exact moments and no test waits.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException, TaskDeferred
from operator_helpers import FakeTI

from airflow_provider_cloudos.operators import fleet as fleet_module
from airflow_provider_cloudos.operators.fleet import XCOM_PAUSE_RESULTS, CloudOSPauseSessionsOperator
from airflow_provider_cloudos.testing import CloudOSSimulator, ManualClock, StateTimings

#: A pause takes 25 s of simulated time; nothing else changes state on its own.
PAUSE_TAKES_25S = StateTimings(
    scheduled=600, setup=600, initialising=600, aborting=25, resume_initialising=600
)
#: The wall-clock moment the fake clock starts at (any fixed epoch will do).
WALL_START = 1_800_000_000.0


class OperatorClock:
    """Stands in for the ``time`` module the fleet operator reads: wall time that moves only when
    the operator sleeps between polling rounds, and that moves the simulator's clock along."""

    def __init__(self, simulated: ManualClock) -> None:
        self.simulated = simulated
        self.origin = simulated()
        self.sleeps: list[float] = []

    def time(self) -> float:
        return WALL_START + (self.simulated() - self.origin)

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.simulated.advance(seconds)


def connection_json(sim: CloudOSSimulator, **extra: Any) -> str:
    """The simulator's connection, with more extras (e.g. no retries, so one 503 is one failure)."""
    conn = json.loads(sim.connection_json())
    conn["extra"].update(extra)
    return json.dumps(conn)


@pytest.fixture
def simulated_time() -> ManualClock:
    return ManualClock()


@pytest.fixture
def slow_pauses(monkeypatch: pytest.MonkeyPatch, simulated_time: ManualClock) -> Iterator[CloudOSSimulator]:
    """The default connection (no retries) on a simulator where a pause takes 25 s of fake time."""
    with CloudOSSimulator(timings=PAUSE_TAKES_25S, clock=simulated_time) as sim:
        monkeypatch.setenv("AIRFLOW_CONN_CLOUDOS_DEFAULT", connection_json(sim, retry_limit=0))
        yield sim


@pytest.fixture
def operator_clock(monkeypatch: pytest.MonkeyPatch, simulated_time: ManualClock) -> OperatorClock:
    clock = OperatorClock(simulated_time)
    monkeypatch.setattr(fleet_module, "time", clock)
    return clock


def waiting_pause(**kwargs: Any) -> CloudOSPauseSessionsOperator:
    options: dict[str, Any] = {
        "task_id": "task",
        "wait_for_paused": True,
        "poll_interval": 10,
        "timeout": 600,
    }
    options.update(kwargs)
    return CloudOSPauseSessionsOperator(**options)


# --- waiting in the worker ---------------------------------------------------------------------


def test_the_wait_counts_its_time_from_when_it_began(
    slow_pauses: CloudOSSimulator, operator_clock: OperatorClock, log_messages: Callable[[], list[str]]
) -> None:
    sid = slow_pauses.add_session(name="nightly", status="ready")["_id"]
    outcome = waiting_pause().execute({"ti": FakeTI()})
    assert outcome["paused"] == [sid]
    assert operator_clock.sleeps == [10, 10, 10], "looked at 0 s, 10 s, 20 s (pausing) and 30 s (paused)"
    assert "1 of 1 sessions paused or terminated after 30s; waiting for 0" in log_messages()


def test_a_session_cloudos_refuses_to_report_fails_the_wait_naming_it(
    slow_pauses: CloudOSSimulator, operator_clock: OperatorClock
) -> None:
    sid = slow_pauses.add_session(name="hidden", status="ready")["_id"]
    slow_pauses.faults.fail_next("get", 403)
    with pytest.raises(AirflowFailException) as raised:
        waiting_pause().execute({"ti": FakeTI()})
    message = str(raised.value)
    assert message.startswith(
        f"1 of 1 sessions did not become paused or terminated: {sid}: CloudOS refused to report it: "
    ), message
    assert "403" in message
    assert operator_clock.sleeps == [], "a refusal is final: no second look"


def test_a_read_cloudos_does_not_answer_is_logged_and_asked_again(
    slow_pauses: CloudOSSimulator, operator_clock: OperatorClock, log_messages: Callable[[], list[str]]
) -> None:
    sid = slow_pauses.add_session(name="flaky", status="ready")["_id"]
    slow_pauses.faults.fail_next("get", 503)
    outcome = waiting_pause().execute({"ti": FakeTI()})
    assert outcome["paused"] == [sid]
    pattern = rf"CloudOS did not answer about session {sid}; will ask again: .*503.*"
    assert any(re.fullmatch(pattern, message) for message in log_messages()), log_messages()
    assert slow_pauses.session(sid)["status"] == "aborted"


# --- waiting in the triggerer ------------------------------------------------------------------


def deferred_trigger_kwargs(task: CloudOSPauseSessionsOperator, ti: FakeTI) -> dict[str, Any]:
    with pytest.raises(TaskDeferred) as deferred:
        task.execute({"ti": ti})
    kwargs: dict[str, Any] = deferred.value.trigger.serialize()[1]
    return kwargs


def test_the_batch_trigger_reads_the_tasks_own_connection_and_workspace(
    slow_pauses: CloudOSSimulator, operator_clock: OperatorClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_CLOUDOS_NIGHT", slow_pauses.connection_json())
    sid = slow_pauses.add_session(name="nightly", status="ready")["_id"]
    task = waiting_pause(
        deferrable=True, cloudos_conn_id="cloudos_night", workspace_id=slow_pauses.workspace_id
    )
    kwargs = deferred_trigger_kwargs(task, FakeTI())
    assert kwargs["cloudos_conn_id"] == "cloudos_night"
    assert kwargs["workspace_id"] == slow_pauses.workspace_id
    assert kwargs["session_ids"] == [sid]


def test_the_batch_trigger_counts_from_when_the_operator_began_waiting(
    slow_pauses: CloudOSSimulator, operator_clock: OperatorClock
) -> None:
    slow_pauses.add_session(name="nightly", status="ready")
    kwargs = deferred_trigger_kwargs(waiting_pause(deferrable=True), FakeTI())
    assert kwargs["started_at"] == WALL_START
    assert kwargs["end_time"] == WALL_START + 600
    assert kwargs["failure_statuses"] == []


def test_deferring_says_how_many_sessions_and_the_deadline(
    slow_pauses: CloudOSSimulator, operator_clock: OperatorClock, log_messages: Callable[[], list[str]]
) -> None:
    for name in ("a", "b"):
        slow_pauses.add_session(name=name, status="ready")
    deferred_trigger_kwargs(waiting_pause(deferrable=True), FakeTI())
    assert "Deferring until 2 session(s) are paused (deadline in 600s)" in log_messages()


# --- back from the trigger ---------------------------------------------------------------------


_EVERY_MAP_INDEX = object()


class RunXCom:
    """The XCom of one DAG run, read the way Airflow reads it: without ``task_ids`` a pull reads
    every task; without ``map_indexes`` it reads every map index of the task (Airflow 3.3), so
    two instances of a mapped task that both pushed give a list."""

    def __init__(self) -> None:
        self.pushed: list[tuple[str, int, str, Any]] = []

    def ti_of(self, task_id: str, map_index: int = -1) -> Any:
        run = self

        class RunTI:
            def __init__(self) -> None:
                self.task_id = task_id
                self.map_index = map_index

            def xcom_push(self, key: str, value: Any) -> None:
                run.pushed.append((task_id, map_index, key, value))

            def xcom_pull(
                self,
                task_ids: str | None = None,
                key: str = "return_value",
                map_indexes: Any = _EVERY_MAP_INDEX,
            ) -> Any:
                latest: dict[tuple[str, int], Any] = {}
                for t, index, k, value in run.pushed:
                    if k == key and task_ids in (None, t) and map_indexes in (_EVERY_MAP_INDEX, index):
                        latest[(t, index)] = value
                values = list(latest.values())
                return values[0] if len(values) == 1 else values or None

        return RunTI()


def test_back_from_the_trigger_the_task_returns_its_own_pushed_results(
    slow_pauses: CloudOSSimulator, operator_clock: OperatorClock
) -> None:
    run = RunXCom()
    mine = slow_pauses.add_session(name="lab-a-1", status="ready")["_id"]
    slow_pauses.add_session(name="lab-b-1", status="ready")
    ours = waiting_pause(task_id="pause_lab_a", deferrable=True, name_pattern="lab-a-*")
    theirs = waiting_pause(task_id="pause_lab_b", deferrable=True, name_pattern="lab-b-*")
    deferred_trigger_kwargs(ours, run.ti_of("pause_lab_a"))
    deferred_trigger_kwargs(theirs, run.ti_of("pause_lab_b"))
    event = {"status": "success", "message": "All 1 sessions are paused or terminated"}
    outcome = ours.execute_complete({"ti": run.ti_of("pause_lab_a")}, event)
    assert outcome["matched"] == [mine]


def test_back_from_the_trigger_a_mapped_task_returns_the_results_of_its_own_map_index(
    slow_pauses: CloudOSSimulator, operator_clock: OperatorClock
) -> None:
    """One pause task mapped over two name patterns: each instance pushed its own results under
    the same task id, and each returns its own, not a list of both or the other's."""
    run = RunXCom()
    first = slow_pauses.add_session(name="lab-a-1", status="ready")["_id"]
    second = slow_pauses.add_session(name="lab-b-1", status="ready")["_id"]
    instances = [
        (waiting_pause(task_id="pause", deferrable=True, name_pattern=pattern), run.ti_of("pause", index))
        for index, pattern in enumerate(["lab-a-*", "lab-b-*"])
    ]
    for operator, ti in instances:
        deferred_trigger_kwargs(operator, ti)
    event = {"status": "success", "message": "All 1 sessions are paused or terminated"}
    outcomes = [operator.execute_complete({"ti": ti}, event) for operator, ti in instances]
    assert [outcome["matched"] for outcome in outcomes] == [[first], [second]]


def test_back_from_the_trigger_its_message_is_logged(
    slow_pauses: CloudOSSimulator, log_messages: Callable[[], list[str]]
) -> None:
    run = RunXCom()
    ti = run.ti_of("task")
    ti.xcom_push(XCOM_PAUSE_RESULTS, {"dry_run": False, "matched": [], "paused": [], "results": {}})
    event = {"status": "success", "message": "All 3 sessions are paused or terminated"}
    waiting_pause().execute_complete({"ti": ti}, event)
    assert "All 3 sessions are paused or terminated" in log_messages()


def test_back_from_the_trigger_without_the_pushed_results_the_task_says_so(
    slow_pauses: CloudOSSimulator,
) -> None:
    event = {"status": "success", "message": "All 1 sessions are paused or terminated"}
    with pytest.raises(AirflowException) as raised:
        waiting_pause().execute_complete({"ti": RunXCom().ti_of("task")}, event)
    assert str(raised.value) == "The pause results pushed before waiting are missing from XCom"
