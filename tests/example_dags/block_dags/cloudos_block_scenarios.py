"""DAGs for the session block's scenarios (tests/example_dags/test_session_block_runs.py).

One DAG per scenario, so that each ``airflow dags test`` run shows one behaviour: a body that
fails, a create that fails after the session exists, a guard that fires while the body still
runs, and the resume form. They run against the local CloudOS simulator like the examples.
"""

from __future__ import annotations

import pendulum
from airflow.providers.common.compat.sdk import DAG, task

from airflow_provider_cloudos import cloudos_session
from airflow_provider_cloudos.sensors.sessions import CloudOSSessionSensor

POLL_SECONDS = 1
DEFAULTS = {"schedule": None, "start_date": pendulum.datetime(2025, 1, 1, tz="UTC"), "catchup": False}
#: Printed by a body task, so the test knows the body runs (and can move costs then).
BODY_STARTED = "block-scenario: the body runs in session"

with (
    DAG(dag_id="block_body_fails", **DEFAULTS),
    cloudos_session(
        "work", project_name="genomics", deferrable=True, poll_interval=POLL_SECONDS, max_cost_usd=100
    ) as session,
):

    @task
    def fail(session_id: str) -> None:
        print(f"{BODY_STARTED} {session_id}")
        raise RuntimeError("the analysis broke")

    fail(session.session_id)

with (
    DAG(dag_id="block_create_fails", **DEFAULTS),
    cloudos_session(
        "work",
        project_name="genomics",
        deferrable=True,
        poll_interval=POLL_SECONDS,
        # Counted from the start of the try (its calls keep it too); the test keeps the session
        # scheduled for longer.
        timeout=15,
        max_cost_usd=100,
    ) as session,
):

    @task
    def never_runs(session_id: str) -> None:
        print(f"{BODY_STARTED} {session_id}")

    never_runs(session.session_id)

with (
    DAG(dag_id="block_guard_fires", **DEFAULTS),
    cloudos_session(
        "work",
        project_name="genomics",
        deferrable=True,
        poll_interval=POLL_SECONDS,
        max_cost_usd=5,
    ) as session,
):

    @task
    def start(session_id: str) -> None:
        print(f"{BODY_STARTED} {session_id}")

    # The body goes on until the session is paused: only the guard will pause it.
    still_working = CloudOSSessionSensor(
        task_id="still_working",
        session_id=session.session_id,
        target_status="paused",
        mode="reschedule",
        poke_interval=POLL_SECONDS,
        timeout=120,
    )
    start(session.session_id) >> still_working

with (
    DAG(dag_id="block_resume", params={"session_id": None}, **DEFAULTS),
    cloudos_session(
        "team",
        session_id="{{ params.session_id }}",
        shutdown_in="4h",
        upload_on_close=False,
        deferrable=True,
        poll_interval=POLL_SECONDS,
        max_runtime="8h",
    ) as session,
):

    @task
    def work(session_id: str, url: str) -> None:
        print(f"{BODY_STARTED} {session_id} at {url}")

    work(session.session_id, session.url)
