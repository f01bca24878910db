"""A pipeline that works in a CloudOS interactive session and always pauses it afterwards.

create the session (mounting a data file, linking a results folder)
→ wait until it is running (the sensor, deferred to the triggerer: no worker slot while waiting)
→ use it (here: log its URL and summary; in real life, run the analysis)
→ pause it, as a *teardown* task: it runs even when the work fails, so the session stops billing.

Nothing here touches the network when the DAG is parsed: the ``cloudos_default`` connection is
read only when a task runs. The short poll interval suits the local simulator the demo runs
against (``python -m airflow_provider_cloudos.demo``); against a real CloudOS, 30-60 s is plenty.
"""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.providers.common.compat.sdk import DAG, task

from airflow_provider_cloudos.operators.sessions import (
    CloudOSCreateSessionOperator,
    CloudOSStopSessionOperator,
)
from airflow_provider_cloudos.sensors.sessions import CloudOSSessionSensor

DAG_ID = "example_cloudos_pipeline"
PROJECT = "genomics"
#: Files to mount (``project/dataset/path``) and folders to link (``project/folder`` or ``s3://``).
MOUNTS = ["genomics/Data/samples.csv"]
LINKS = ["genomics/Data/results"]
POLL_SECONDS = 2

with DAG(
    dag_id=DAG_ID,
    description="Create a CloudOS session, wait until it runs, use it, pause it (teardown).",
    schedule=None,
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    tags=["cloudos", "example"],
    doc_md=__doc__,
) as dag:
    create = CloudOSCreateSessionOperator(
        task_id="create",
        # One name per run: a retried create task finds the session its earlier try made.
        name="{{ dag.dag_id }}-{{ run_id }}",
        session_type="jupyter",
        project_name=PROJECT,
        instance_type="c5.xlarge",
        storage_size=500,
        shutdown_in="2h",
        cost_limit=20,
        mounts=MOUNTS,
        links=LINKS,
        # The sensor below does the waiting, to show it; by default the operator waits itself.
        wait_for_running=False,
    )

    wait_until_running = CloudOSSessionSensor(
        task_id="wait_until_running",
        session_id=create.output,
        target_status="running",
        deferrable=True,
        poke_interval=POLL_SECONDS,
        timeout=15 * 60,
    )

    @task
    def use_session(ti: Any = None) -> str:
        """Stands for the real work; reads what the upstream tasks pushed to XCom."""
        url = ti.xcom_pull(task_ids="create", key="session_url")
        summary: dict[str, Any] = ti.xcom_pull(task_ids="wait_until_running") or {}
        print(f"Session {summary.get('name')!r} is {summary.get('status')}: {url}")
        for key in ("session_type", "instance_type", "storage_gb", "project", "cost_usd", "auto_shutdown_at"):
            print(f"  {key:<17} {summary.get(key)}")
        return str(url)

    stop = CloudOSStopSessionOperator(
        task_id="stop",
        session_id=create.output,
        deferrable=True,
        poll_interval=POLL_SECONDS,
    ).as_teardown(setups=create)

    wait_until_running >> use_session() >> stop
