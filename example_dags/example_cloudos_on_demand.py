"""A CloudOS session on demand: trigger this DAG (UI form or REST API) and say what you need.

Every choice is a typed ``Param``, so the trigger form shows a proper field for each and Airflow
refuses a bad value before any task runs: the session type is one of four, storage is a whole
number of GB between 100 and 5000, the auto-shutdown looks like ``30m``, ``8h`` or ``2d``.
Trigger it with a ``conf`` to override any of them, for example through the REST API::

    POST /api/v2/dags/example_cloudos_on_demand/dagRuns
    {"logical_date": null, "conf": {"session_type": "vscode", "storage_size": 1000}}

The first task turns the run's params into a plan (a session name unique to the run) and the
create task reads the name from its XCom, the rest straight from ``params``. The session is
created, waited for in the triggerer, used, and paused again by a teardown task whatever
happens in between.
"""

from __future__ import annotations

import re
from typing import Any

import pendulum
from airflow.providers.common.compat.sdk import DAG, Param, task

from airflow_provider_cloudos.operators.sessions import (
    CloudOSCreateSessionOperator,
    CloudOSStopSessionOperator,
)

DAG_ID = "example_cloudos_on_demand"
POLL_SECONDS = 2
SESSION_TYPES = ["jupyter", "vscode", "rstudio", "spark"]

with DAG(
    dag_id=DAG_ID,
    description="Create a CloudOS session from the trigger's params, use it, pause it.",
    schedule=None,
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    tags=["cloudos", "example"],
    doc_md=__doc__,
    # Params keep their types in the operators' fields (storage_size stays an integer, mounts a list).
    render_template_as_native_obj=True,
    params={
        "session_name": Param(
            "on-demand", type="string", minLength=1, maxLength=40, title="Session name (prefix)"
        ),
        "session_type": Param("jupyter", enum=SESSION_TYPES, title="Session type"),
        "instance_type": Param("c5.xlarge", type="string", minLength=1, title="Instance type"),
        "storage_size": Param(500, type="integer", minimum=100, maximum=5000, title="Storage (GB)"),
        "shutdown_in": Param(
            "4h",
            type="string",
            pattern=r"^[0-9]+[mhd]$",
            title="Auto-shutdown after",
            description="A whole number and m, h or d: 30m, 8h, 2d.",
        ),
        "project_name": Param("genomics", type="string", minLength=1, title="CloudOS project"),
        "mounts": Param(
            ["genomics/Data/samples.csv"],
            type="array",
            items={"type": "string"},
            title="Data files to mount",
            description="project/dataset/path/file or s3://bucket/key, one per line.",
        ),
        "links": Param(
            [],
            type="array",
            items={"type": "string"},
            title="Folders to link",
            description="project/dataset/folder or s3://bucket/prefix/ (AWS), one per line.",
        ),
        "cost_limit": Param(10, type="number", minimum=-1, title="Cost limit (USD, -1: none)"),
    },
) as dag:

    @task(multiple_outputs=True)
    def plan(params: Any = None, run_id: Any = None) -> dict[str, Any]:
        """One session name per run, so a retried create finds its session instead of making another."""
        suffix = re.sub(r"[^A-Za-z0-9]+", "-", str(run_id)).strip("-")[-48:]
        name = f"{params['session_name']}-{suffix}"
        print(f"Planned {params['session_type']} session {name!r} in project {params['project_name']!r}")
        return {"name": name}

    create = CloudOSCreateSessionOperator(
        task_id="create",
        name=plan()["name"],
        session_type="{{ params.session_type }}",
        project_name="{{ params.project_name }}",
        instance_type="{{ params.instance_type }}",
        storage_size="{{ params.storage_size }}",
        shutdown_in="{{ params.shutdown_in }}",
        cost_limit="{{ params.cost_limit }}",
        mounts="{{ params.mounts }}",
        links="{{ params.links }}",
        deferrable=True,
        poll_interval=POLL_SECONDS,
        timeout="30m",
    )

    @task
    def work(session_id: str, ti: Any = None) -> None:
        """Stands for the job the session was made for."""
        summary: dict[str, Any] = ti.xcom_pull(task_ids="create", key="session_summary") or {}
        print(
            f"Working in {summary.get('session_type')} session {session_id} "
            f"({summary.get('instance_type')}, {summary.get('storage_gb')} GB): {summary.get('url')}"
        )

    stop = CloudOSStopSessionOperator(
        task_id="stop",
        session_id=create.output,
        deferrable=True,
        poll_interval=POLL_SECONDS,
    ).as_teardown(setups=create)

    work(create.output) >> stop
