"""The DAGs the production-shaped soak runs (tests/deployment), on Celery workers and two triggerers.

``cloudos_soak_lifecycle``: the lifecycle every pipeline has, all deferrable, short polls, each
task retried twice: create -> the sensor waits until the session runs -> a task uses it -> the
session is paused by a teardown, even when the work fails.

``cloudos_soak_create_and_wait``: a create task that waits for ``running`` itself, deferred, with
the run's ``timeout``; no retries, so what the trigger does at its deadline or when a user marks
the task failed is what the run shows. A teardown pauses the session if the create succeeds.

``cloudos_soak_memory``: one deferred sensor per session id in the run's conf (mapped), to
measure what a real triggerer process pays per wait.

Session names carry the run id: a retried create finds the session its earlier try made.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pendulum
from airflow.providers.common.compat.sdk import DAG, task

from airflow_provider_cloudos.hooks.cloudos import CloudOSHook
from airflow_provider_cloudos.operators.sessions import (
    CloudOSCreateSessionOperator,
    CloudOSStopSessionOperator,
)
from airflow_provider_cloudos.sensors.sessions import CloudOSSessionSensor

POLL_SECONDS = 2
START = pendulum.datetime(2025, 1, 1, tz="UTC")
SESSION = {
    "name": "{{ dag.dag_id }}-{{ run_id }}",
    "session_type": "jupyter",
    "project_name": "genomics",
    "instance_type": "c5.xlarge",
    "storage_size": 500,
    "shutdown_in": "2h",
}
MANY = {"max_active_runs": 100, "max_active_tasks": 200}

with DAG(
    dag_id="cloudos_soak_lifecycle",
    schedule=None,
    start_date=START,
    catchup=False,
    default_args={"retries": 2, "retry_delay": timedelta(seconds=3)},
    tags=["cloudos", "soak"],
    **MANY,
):
    create = CloudOSCreateSessionOperator(
        task_id="create", wait_for_running=False, deferrable=True, poll_interval=POLL_SECONDS, **SESSION
    )
    wait_until_running = CloudOSSessionSensor(
        task_id="wait_until_running",
        session_id=create.output,
        target_status="running",
        deferrable=True,
        poke_interval=POLL_SECONDS,
        timeout=30 * 60,
    )

    @task
    def use_session(session_id: str) -> str:
        """The work: only possible on a running session, read again here through the hook."""
        session = CloudOSHook().get_session(session_id)
        status = session.get("status")
        if status not in ("ready", "running"):
            raise RuntimeError(f"session {session_id} is {status!r}, not running")
        return str(session.get("name"))

    stop = CloudOSStopSessionOperator(
        task_id="stop", session_id=create.output, deferrable=True, poll_interval=POLL_SECONDS
    ).as_teardown(setups=create)

    wait_until_running >> use_session(create.output) >> stop

with DAG(
    dag_id="cloudos_soak_create_and_wait",
    schedule=None,
    start_date=START,
    catchup=False,
    params={"timeout": 1800},
    tags=["cloudos", "soak"],
    **MANY,
):
    created = CloudOSCreateSessionOperator(
        task_id="create",
        wait_for_running=True,
        deferrable=True,
        poll_interval=POLL_SECONDS,
        timeout="{{ params.timeout }}",
        retries=0,
        **SESSION,
    )
    CloudOSStopSessionOperator(
        task_id="stop", session_id=created.output, deferrable=True, poll_interval=POLL_SECONDS
    ).as_teardown(setups=created)

with DAG(
    dag_id="cloudos_soak_memory",
    schedule=None,
    start_date=START,
    catchup=False,
    params={"session_ids": []},
    tags=["cloudos", "soak"],
    **MANY,
):

    @task
    def sessions_to_watch(params: dict[str, Any] | None = None) -> list[str]:
        """The sessions to wait for, from the run's conf: one deferred wait each."""
        return list((params or {})["session_ids"])

    # Waits that sit in the triggerer: the sessions never start, and a poll a minute keeps
    # the measurement about memory, not polling.
    CloudOSSessionSensor.partial(
        task_id="wait",
        target_status="running",
        deferrable=True,
        poke_interval=60,
        timeout=3600,
        retries=0,
    ).expand(session_id=sessions_to_watch())
