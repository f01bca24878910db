"""Every example DAG run by Airflow itself (``airflow dags test``) against the CloudOS simulator.

``airflow dags test`` runs deferred tasks' triggers inline, through the same code the triggerer
runs, so these runs also show that the deferrable waits work end to end (issue 4's last point:
the pipeline waits with ``CloudOSSessionSensor(deferrable=True)``). After each scenario the
simulator must hold no session still starting, running or stopping, and the API key must not
appear anywhere in Airflow's output (except in the one debug line Airflow 3.0.x itself prints for
the request that masks it, a known upstream defect docs/installation.md names). (The working-hours resume
DAG leaves the team session running by design; its test pauses it again with the pause DAG before
checking.)
"""

from __future__ import annotations

import csv

import pytest
from example_dag_runs import (
    AIRFLOW_LOGS_MASK_REQUESTS,
    EXAMPLE_DAG_IDS,
    TRIGGER_RAN_INLINE,
    dags_test,
    is_airflow_mask_request_line,
    lines_showing,
    live_sessions,
)

from airflow_provider_cloudos.core.formatters import session_summary
from airflow_provider_cloudos.core.lineage import cloudos_namespace
from airflow_provider_cloudos.core.status import PAUSED, RUNNING, map_status
from airflow_provider_cloudos.testing import CloudOSSimulator, StateTimings

#: The DAGs the tests below run; test_every_example_dag_is_run keeps it honest.
RUN_HERE = {
    "example_cloudos_pipeline",
    "example_cloudos_on_demand",
    "example_cloudos_working_hours_resume",
    "example_cloudos_working_hours_pause",
    "example_cloudos_nightly_cleanup",
    "example_cloudos_results_producer",
}


#: Example DAGs whose runs are tested in a module of their own.
RUN_ELSEWHERE = {
    "example_cloudos_session_block": "test_session_block_runs.py",
    "example_cloudos_analyst_session": "test_analyst_session_run.py",
    # Started by the scheduler on the producer's asset event: only a real Airflow shows that.
    "example_cloudos_results_pipeline": "tests/e2e/test_session_results_e2e.py",
}


def test_every_example_dag_is_run():
    assert RUN_HERE | set(RUN_ELSEWHERE) == EXAMPLE_DAG_IDS


def test_pipeline_creates_waits_uses_and_pauses(airflow_home, dag_simulator, dag_clock, sentinel_api_key):
    run = dags_test(airflow_home, dag_simulator, dag_clock, "example_cloudos_pipeline")

    assert run.code == 0, run.tail()
    sessions = dag_simulator.sessions()
    assert len(sessions) == 1, sessions
    session = sessions[0]
    assert map_status(session["status"]) == PAUSED
    assert dag_simulator.counters.requests("create") == 1
    # The sensor and the teardown both waited in the trigger, run inline by `airflow dags test`.
    assert run.output.count(TRIGGER_RAN_INLINE) == 2, run.tail()
    assert f"Session {session['_id']} is running" in run.output
    assert f"Session {session['_id']} is paused" in run.output
    # The mounted file and the linked folder were resolved against the simulator's project.
    payload = dag_simulator.created_payloads[0]
    assert [item.get("name") for item in payload["dataItems"]] == ["samples.csv"]
    assert [item["data"]["name"] for item in payload["fuseFileSystems"]] == ["results"]
    assert payload["projectId"] == dag_simulator.project_id
    assert lines_showing(sentinel_api_key, run.output) == []
    # docs/installation.md warns 3.0.x users of Airflow's own leak: it is there, and only there.
    airflow_leaks = [line for line in run.output.splitlines() if is_airflow_mask_request_line(line)]
    assert any(sentinel_api_key in line for line in airflow_leaks) is AIRFLOW_LOGS_MASK_REQUESTS
    assert live_sessions(dag_simulator) == []


def test_results_producer_records_an_asset_event_per_folder_its_pause_saved(
    airflow_home, dag_simulator, dag_clock, sentinel_api_key
):
    run = dags_test(airflow_home, dag_simulator, dag_clock, "example_cloudos_results_producer")

    assert run.code == 0, run.tail()
    assert run.dag_run_state == "success", run.tail()
    [session] = dag_simulator.sessions()
    assert map_status(session["status"]) == PAUSED
    assert dag_simulator.abort_requests == [(session["_id"], True, False)]
    project_folder = (
        f"{cloudos_namespace(dag_simulator.url, dag_simulator.workspace_id)}/genomics/Data/results"
    )
    saved = f"Session {session['_id']} saved its data: asset event(s) for s3://team-results/rnaseq, "
    saved += project_folder
    assert saved in run.output, run.tail()
    assert lines_showing(sentinel_api_key, run.output) == []


def test_on_demand_builds_the_session_from_conf_and_upstream_xcom(airflow_home, dag_simulator, dag_clock):
    conf = {
        "session_name": "conf-run",
        "session_type": "vscode",
        "instance_type": "m5.2xlarge",
        "storage_size": 1200,
        "shutdown_in": "30m",
        "cost_limit": 5,
        "mounts": ["genomics/Reference/genome.fa"],
    }

    run = dags_test(airflow_home, dag_simulator, dag_clock, "example_cloudos_on_demand", conf=conf)

    assert run.code == 0, run.tail()
    sessions = dag_simulator.sessions()
    assert len(sessions) == 1, sessions
    summary = session_summary(sessions[0])
    # The name comes from the plan task's XCom: the conf's prefix plus the run id made name-safe.
    assert summary["name"].startswith("conf-run-manual-"), summary
    assert summary["session_type"] == "VS Code"
    assert summary["instance_type"] == "m5.2xlarge"
    assert summary["storage_gb"] == 1200
    assert summary["cost_limit_usd"] == 5
    assert summary["status"] == PAUSED
    payload = dag_simulator.created_payloads[0]
    assert [item.get("name") for item in payload["dataItems"]] == ["genome.fa"]
    # The create task's own wait and the teardown's wait both ran in the trigger.
    assert run.output.count(TRIGGER_RAN_INLINE) == 2, run.tail()
    assert live_sessions(dag_simulator) == []


def test_on_demand_refuses_a_bad_param_before_any_session(airflow_home, dag_simulator, dag_clock):
    run = dags_test(
        airflow_home, dag_simulator, dag_clock, "example_cloudos_on_demand", conf={"storage_size": 50}
    )

    assert run.code != 0, run.tail()
    assert "Invalid input for param storage_size" in run.output, run.tail()
    assert dag_simulator.counters.requests("create") == 0
    assert dag_simulator.sessions() == []


@pytest.fixture
def team_session(dag_simulator: CloudOSSimulator) -> str:
    """A paused team session, as it is at night."""
    return str(dag_simulator.add_session(name="team-session", status="aborted")["_id"])


def test_working_hours_resume_then_pause_idempotently(
    airflow_home, dag_simulator, dag_clock, team_session, sentinel_api_key
):
    by_variable = {"AIRFLOW_VAR_CLOUDOS_TEAM_SESSION_ID": team_session}
    resume, pause = "example_cloudos_working_hours_resume", "example_cloudos_working_hours_pause"

    morning = dags_test(airflow_home, dag_simulator, dag_clock, resume, conf={"session_id": team_session})
    assert morning.code == 0, morning.tail()
    assert map_status(dag_simulator.session(team_session)["status"]) == RUNNING
    assert TRIGGER_RAN_INLINE in morning.output, morning.tail()

    # The session named by the Variable this time (no conf), as on a scheduled run.
    evening = dags_test(airflow_home, dag_simulator, dag_clock, pause, extra_env=by_variable)
    assert evening.code == 0, evening.tail()
    assert map_status(dag_simulator.session(team_session)["status"]) == PAUSED
    assert TRIGGER_RAN_INLINE in evening.output, evening.tail()

    # Again: already paused, so nothing to do and still a success.
    late = dags_test(airflow_home, dag_simulator, dag_clock, pause, conf={"session_id": team_session})
    assert late.code == 0, late.tail()
    assert "already paused" in late.output, late.tail()

    assert dag_simulator.counters.requests("resume") == 1
    assert dag_simulator.counters.requests("abort") == 1
    assert dag_simulator.counters.requests("create") == 0
    for run in (morning, evening, late):
        assert lines_showing(sentinel_api_key, run.output) == []
    assert live_sessions(dag_simulator) == []


def test_nightly_cleanup_pauses_what_runs_except_the_allow_list(
    airflow_home, dag_simulator, dag_clock, tmp_path
):
    # Pauses complete at once here: the batch trigger polls every 30 s, and its first poll (right
    # away) must find them done for the run to be quick, whenever the clock moves.
    dag_simulator.set_timings(StateTimings(aborting=0.0))
    forgotten = dag_simulator.add_session(name="forgotten-notebook", status="ready")["_id"]
    allowed = dag_simulator.add_session(name="shared-dashboard", status="ready")["_id"]
    paused = dag_simulator.add_session(name="yesterday", status="aborted")["_id"]
    reports = tmp_path / "reports"

    run = dags_test(
        airflow_home,
        dag_simulator,
        dag_clock,
        "example_cloudos_nightly_cleanup",
        extra_env={"AIRFLOW_VAR_CLOUDOS_REPORT_DIR": str(reports)},
    )

    assert run.code == 0, run.tail()
    assert map_status(dag_simulator.session(forgotten)["status"]) == PAUSED
    assert map_status(dag_simulator.session(allowed)["status"]) == RUNNING  # on the allow-list
    assert map_status(dag_simulator.session(paused)["status"]) == PAUSED
    assert dag_simulator.counters.requests("abort") == 1
    assert TRIGGER_RAN_INLINE in run.output, run.tail()
    (report,) = reports.glob("*.csv")
    with report.open(encoding="utf-8") as handle:
        audit = {row["ID"]: row for row in csv.DictReader(handle)}
    assert set(audit) == {forgotten, allowed, paused}, run.tail()
    # The access audit: the columns are there, and these seeded sessions mount and link nothing.
    assert {(row["Mounted files"], row["Linked folders"]) for row in audit.values()} == {("", "")}
    assert dag_simulator.counters.requests("create") == 0
