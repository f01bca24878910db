"""The example DAGs run by a real Airflow: api-server, scheduler, dag-processor and triggerer.

Everything a deployment has, on one machine and on loopback only: SQLite, the LocalExecutor
(parallelism 4), each component in its own process group, free ports for the API and the two
log servers, the CloudOS simulator in this process. The test drives Airflow only through its REST
API (``/api/v2``), as a user or another system would:

1. the pipeline and the on-demand DAG (with a ``conf``) are unpaused and triggered; the working
   hours resume DAG is unpaused and the scheduler starts its latest weekday 08:00 run itself;
2. then the pause DAG the same way (its 20:00 run);
3. last, alone (it pauses every running session), the nightly cleanup.

It checks that every run succeeds, that the waiting tasks were deferred (their trigger ran in
the triggerer process, as its log shows), and that no session is left running except the one on
the cleanup's allow-list. Sessions change state only when the test moves the simulator's clock
(see ``ClockDriver``), so no step depends on the machine's speed. All processes are stopped in
the fixture's teardown, whatever happens; the harness is ``airflow_stack.py``, which the
browser test shares.

Run it with ``pytest -m airflow_e2e tests/e2e``; it needs Airflow 3 (on 2.x it is skipped).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from airflow_stack import AirflowStack, ClockDriver, run_to_the_end, running_stack

from airflow_provider_cloudos.compat import AIRFLOW_V_3_0_PLUS
from airflow_provider_cloudos.core.status import LIVE_STATUSES, PAUSED, RUNNING, map_status
from airflow_provider_cloudos.testing import CloudOSSimulator

pytestmark = pytest.mark.airflow_e2e

if not AIRFLOW_V_3_0_PLUS:
    # Issue 8 keeps this test on 3.x (make test-airflow2 leaves tests/e2e out): it drives Airflow
    # 3's api-server, dag-processor and /api/v2 REST API, which 2.11 does not have.
    pytest.skip("the end-to-end test drives Airflow 3's components", allow_module_level=True)

PIPELINE = "example_cloudos_pipeline"
ON_DEMAND = "example_cloudos_on_demand"
RESUME = "example_cloudos_working_hours_resume"
PAUSE = "example_cloudos_working_hours_pause"
CLEANUP = "example_cloudos_nightly_cleanup"
ALL_DAGS = (PIPELINE, ON_DEMAND, RESUME, PAUSE, CLEANUP)
#: The tasks that wait for a session, each of which must have been deferred to the triggerer.
WAITING_TASKS = (
    (PIPELINE, "wait_until_running"),
    (PIPELINE, "stop"),
    (ON_DEMAND, "create"),
    (ON_DEMAND, "stop"),
    (RESUME, "resume"),
    (PAUSE, "pause"),
    (CLEANUP, "pause_running_sessions"),
)


@pytest.fixture(scope="module")
def team_session(simulator: CloudOSSimulator) -> str:
    """The team's session, paused overnight; the working-hours DAGs find it through the Variable."""
    return str(simulator.add_session(name="team-session", status="aborted")["_id"])


@pytest.fixture(scope="module")
def stack(
    simulator: CloudOSSimulator, team_session: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AirflowStack]:
    home = tmp_path_factory.mktemp("e2e-airflow-home")
    extra_env = {
        "AIRFLOW_VAR_CLOUDOS_REPORT_DIR": str(home / "reports"),
        "AIRFLOW_VAR_CLOUDOS_TEAM_SESSION_ID": team_session,
    }
    with running_stack(home, simulator, ALL_DAGS, extra_env) as airflow:
        yield airflow


def _trigger_logs(stack: AirflowStack, dag_id: str, task_id: str) -> list[str]:
    """The logs the triggerer wrote for this task's triggers (``attempt=N.log.trigger.<job>.log``)."""
    folder = stack.home / "logs" / f"dag_id={dag_id}"
    return [
        path.read_text(errors="replace")
        for path in folder.glob(f"run_id=*/task_id={task_id}/*.log.trigger.*")
    ]


def test_example_dags_run_in_a_real_airflow(stack, simulator, clock, team_session):
    driver = ClockDriver(stack, clock)

    # 1. Two DAGs triggered through the REST API; the scheduler starts the morning resume itself.
    for dag_id in (PIPELINE, ON_DEMAND, RESUME):
        stack.unpause(dag_id)
    conf = {"session_name": "e2e", "session_type": "rstudio", "storage_size": 800, "shutdown_in": "1h"}
    stack.trigger(PIPELINE)
    on_demand_run = stack.trigger(ON_DEMAND, conf)
    run_to_the_end(stack, driver, (PIPELINE, ON_DEMAND, RESUME))
    for dag_id in (PIPELINE, ON_DEMAND, RESUME):
        stack.pause(dag_id)
    assert map_status(simulator.session(team_session)["status"]) == RUNNING
    create = next(ti for ti in stack.task_instances(ON_DEMAND, on_demand_run) if ti["task_id"] == "create")
    rendered = create["rendered_fields"]
    assert (rendered["session_type"], rendered["storage_size"]) == ("rstudio", 800)
    assert str(rendered["name"]).startswith("e2e-manual-")  # from the plan task's XCom

    # 2. The evening pause, from its schedule.
    stack.unpause(PAUSE)
    run_to_the_end(stack, driver, (PAUSE,))
    stack.pause(PAUSE)
    assert map_status(simulator.session(team_session)["status"]) == PAUSED

    # 3. The nightly cleanup, alone: it pauses every running session not on its allow-list.
    forgotten = simulator.add_session(name="forgotten-notebook", status="ready")["_id"]
    allowed = simulator.add_session(name="shared-dashboard", status="ready")["_id"]
    stack.unpause(CLEANUP)
    run_to_the_end(stack, driver, (CLEANUP,))
    stack.pause(CLEANUP)
    assert map_status(simulator.session(forgotten)["status"]) == PAUSED
    assert map_status(simulator.session(allowed)["status"]) == RUNNING  # on the allow-list

    # Every wait was handed to the triggerer, which ran the trigger to its event.
    for dag_id, task_id in WAITING_TASKS:
        logs = _trigger_logs(stack, dag_id, task_id)
        assert any("Trigger fired event" in log for log in logs), (dag_id, task_id, logs)

    # Nothing left billing but the session the cleanup is told to leave alone.
    left = [s["_id"] for s in simulator.sessions() if map_status(s.get("status")) in LIVE_STATUSES]
    assert left == [allowed]
    assert simulator.counters.requests("create") == 2
    assert simulator.counters.requests("resume") == 1
