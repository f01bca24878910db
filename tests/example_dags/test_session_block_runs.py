"""The session block (``cloudos_session``) run by ``airflow dags test`` against the simulator.

The example DAG shows the block whose body succeeds; the DAGs in ``block_dags/`` each show one
more behaviour: a body that fails, a create that fails after the session exists, a guard that
fires while the body still runs, and the resume form (of a paused session, and of one that was
already running, which the block must leave running).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from example_dag_runs import CLOCK_STEP_SECONDS, TRIGGER_RAN_INLINE, dags_test, lines_showing, live_sessions

from airflow_provider_cloudos.core.status import PAUSED, RUNNING, map_status
from airflow_provider_cloudos.testing import CloudOSSimulator, ManualClock, StateTimings

BLOCK_DAGS = Path(__file__).resolve().parent / "block_dags"
BODY_STARTED = "block-scenario: the body runs in session"
_BODY_SESSION = re.compile(re.escape(BODY_STARTED) + r" ([0-9a-f]{24})")


def _only_session(simulator: CloudOSSimulator) -> dict:
    sessions = simulator.sessions()
    assert len(sessions) == 1, sessions
    return sessions[0]


def test_example_block_creates_works_guards_and_pauses(
    airflow_home, dag_simulator, dag_clock, sentinel_api_key
):
    run = dags_test(airflow_home, dag_simulator, dag_clock, "example_cloudos_session_block")

    assert (run.code, run.dag_run_state) == (0, "success"), run.tail()
    session = _only_session(dag_simulator)
    session_id = session["_id"]
    assert map_status(session["status"]) == PAUSED
    assert dag_simulator.counters.requests("create") == 1
    assert [request[0] for request in dag_simulator.abort_requests] == [session_id]
    # The body got the id and URL (BashOperator env) and the summary (TaskFlow argument).
    worked = rf"working in session {session_id} at http://127\.0\.0\.1:\d+/\S*{session_id}"
    assert re.search(worked, run.output), run.tail()
    assert "is running (RStudio)" in run.output, run.tail()
    # The default name is unique to the DAG run and the group.
    assert session["name"].startswith("example_cloudos_session_block-analysis-manual__"), session["name"]
    assert session["name"] in run.output
    # The guard ended by itself once the body was done or the session paused.
    assert "Guard of block" not in run.output
    assert "task_id=analysis.guard" in run.output
    assert lines_showing(sentinel_api_key, run.output) == []  # 3.0.x's own mask line aside
    assert live_sessions(dag_simulator) == []


def test_a_failing_body_still_pauses_the_session_and_fails_the_run(airflow_home, dag_simulator, dag_clock):
    run = dags_test(airflow_home, dag_simulator, dag_clock, "block_body_fails", dags_folder=BLOCK_DAGS)

    assert run.code != 0, run.tail()
    assert run.dag_run_state == "failed", run.tail()
    assert "the analysis broke" in run.output, run.tail()
    session = _only_session(dag_simulator)
    assert map_status(session["status"]) == PAUSED
    assert [request[0] for request in dag_simulator.abort_requests] == [session["_id"]]
    assert live_sessions(dag_simulator) == []


def test_a_create_that_fails_leaves_nothing_running(airflow_home, dag_simulator, dag_clock):
    # The session stays scheduled far longer than the create task's 15 s wait.
    dag_simulator.set_timings(StateTimings(scheduled=100 * CLOCK_STEP_SECONDS, aborting=1.0))

    run = dags_test(airflow_home, dag_simulator, dag_clock, "block_create_fails", dags_folder=BLOCK_DAGS)

    assert run.code != 0, run.tail()
    assert run.dag_run_state == "failed", run.tail()
    assert "did not become running" in run.output, run.tail()
    assert BODY_STARTED not in run.output  # the body never ran
    session = _only_session(dag_simulator)
    # The create task paused what it had started; the teardown did not run (its setup failed).
    assert [request[0] for request in dag_simulator.abort_requests] == [session["_id"]]
    dag_clock.advance(CLOCK_STEP_SECONDS)  # past the simulator's one second of "stopping"
    assert live_sessions(dag_simulator) == []


def test_the_guard_pauses_the_session_while_the_body_runs_and_fails_the_block(
    airflow_home, dag_simulator, dag_clock
):
    # Pauses complete at once, so the body's wait for "paused" ends as soon as the guard pauses.
    dag_simulator.set_timings(
        StateTimings(scheduled=1.0, setup=1.0, initialising=1.0, aborting=0.0, resume_initialising=1.0)
    )

    def spend_once_the_body_runs(line: str) -> None:
        found = _BODY_SESSION.search(line)
        if found:
            dag_simulator.set_cost(found.group(1), 10.0)

    run = dags_test(
        airflow_home,
        dag_simulator,
        dag_clock,
        "block_guard_fires",
        dags_folder=BLOCK_DAGS,
        on_line=spend_once_the_body_runs,
    )

    assert run.code != 0, run.tail()
    assert run.dag_run_state == "failed", run.tail()
    session = _only_session(dag_simulator)
    session_id = session["_id"]
    assert map_status(session["status"]) == PAUSED
    reason = f"Guard of block 'work': session {session_id} cost $10.00 reached the limit of $5.00"
    assert reason in run.output, run.tail()
    assert "the session was paused" in run.output
    # The body was still running (waiting for the pause) when the guard paused the session.
    assert run.output.index(BODY_STARTED) < run.output.index(reason)
    assert f"Session {session_id} is paused" in run.output
    # Only the guard asked for a pause; the teardown found the session already paused.
    assert [request[0] for request in dag_simulator.abort_requests] == [session_id]
    assert "already paused" in run.output
    assert live_sessions(dag_simulator) == []


def test_the_resume_form_resumes_a_paused_session_and_pauses_it_without_saving(
    airflow_home, dag_simulator, dag_clock
):
    team = str(dag_simulator.add_session(name="team-session", status="aborted")["_id"])

    run = dags_test(
        airflow_home,
        dag_simulator,
        dag_clock,
        "block_resume",
        conf={"session_id": team},
        dags_folder=BLOCK_DAGS,
    )

    assert (run.code, run.dag_run_state) == (0, "success"), run.tail()
    assert f"{BODY_STARTED} {team} at http" in run.output, run.tail()
    assert dag_simulator.counters.requests("resume") == 1
    assert dag_simulator.counters.requests("create") == 0
    assert dag_simulator.abort_requests == [(team, False, False)]  # upload_on_close=False
    assert map_status(dag_simulator.session(team)["status"]) == PAUSED
    assert TRIGGER_RAN_INLINE in run.output
    assert live_sessions(dag_simulator) == []


@pytest.fixture
def running_team_session(dag_simulator: CloudOSSimulator, dag_clock: ManualClock) -> str:
    return str(dag_simulator.add_session(name="team-session", status="ready")["_id"])


def test_the_resume_form_leaves_running_a_session_it_did_not_start(
    airflow_home, dag_simulator, dag_clock, running_team_session
):
    team = running_team_session

    run = dags_test(
        airflow_home,
        dag_simulator,
        dag_clock,
        "block_resume",
        conf={"session_id": team},
        dags_folder=BLOCK_DAGS,
    )

    assert (run.code, run.dag_run_state) == (0, "success"), run.tail()
    assert f"{BODY_STARTED} {team}" in run.output, run.tail()
    assert "leaving it running" in run.output, run.tail()
    assert dag_simulator.counters.requests("resume") == 0
    assert dag_simulator.abort_requests == []
    assert map_status(dag_simulator.session(team)["status"]) == RUNNING
