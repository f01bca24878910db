"""An analyst's session whose saved results start the next pipeline (the producer of a pair).

create a session that links two results folders: an S3 prefix and a CloudOS project folder
→ work in it (here a stand-in task; in real life the analyst or a notebook writes the results)
→ pause it with upload, as a teardown task.

Once that pause has saved the session's data, the stop task records an Airflow asset event for
each folder the session links, and ``example_cloudos_results_pipeline``, scheduled on the S3
folder, runs next. No ``outlets`` are written here: the stop task declares an asset alias and
names the folders at run time, so templated links work too.

A pause that saves nothing records no event, so the pipeline does not run: trigger this DAG with
``{"save_results": false}`` (a pause without upload) to see it. So do a session that was already
paused or stopping, a forced or failed pause, and a stop task that does not wait for the save.
"""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.providers.common.compat.sdk import DAG, Param, task

from airflow_provider_cloudos.operators.sessions import (
    CloudOSCreateSessionOperator,
    CloudOSStopSessionOperator,
)

DAG_ID = "example_cloudos_results_producer"
PROJECT = "genomics"
#: The folders the session writes into: the pipeline DAG is scheduled on the first one.
RESULTS_FOLDER = "s3://team-results/rnaseq/"
PROJECT_FOLDER = "genomics/Data/results"
POLL_SECONDS = 2

with DAG(
    dag_id=DAG_ID,
    description="A CloudOS session whose saved results start the pipeline scheduled on them.",
    schedule=None,
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    tags=["cloudos", "example", "assets"],
    doc_md=__doc__,
    params={
        "save_results": Param(
            True,
            type="boolean",
            title="Save the results",
            description="Pause with upload (the pipeline runs next) or without (it does not).",
        ),
    },
) as dag:
    create = CloudOSCreateSessionOperator(
        task_id="create",
        # One name per run: a retried create task finds the session its earlier try made.
        name="{{ dag.dag_id }}-{{ run_id }}",
        session_type="jupyter",
        project_name=PROJECT,
        links=[RESULTS_FOLDER, PROJECT_FOLDER],
        shutdown_in="4h",
        deferrable=True,
        poll_interval=POLL_SECONDS,
    )

    @task
    def analyse(session_url: Any = None) -> None:
        """Stands for the work that writes the results into the linked folders."""
        print(f"Working in {session_url}; results go to {RESULTS_FOLDER} and {PROJECT_FOLDER}")

    stop = CloudOSStopSessionOperator(
        task_id="stop",
        session_id=create.output,
        upload_on_close="{{ params.save_results }}",
        deferrable=True,
        poll_interval=POLL_SECONDS,
    ).as_teardown(setups=create)

    analyse(create.output) >> stop
