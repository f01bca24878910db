"""A pipeline in a few lines: create a session, work in it, and always pause it afterwards."""

import pendulum
from airflow.providers.common.compat.sdk import DAG, task  # Airflow 3 only: from airflow.sdk import ...

from airflow_provider_cloudos.operators import CloudOSCreateSessionOperator, CloudOSStopSessionOperator

with DAG(
    dag_id="cloudos_analysis",
    schedule=None,
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
):
    create = CloudOSCreateSessionOperator(
        task_id="create",
        name="analysis-{{ ds }}",
        session_type="jupyter",
        project_name="genomics",
        instance_type="c5.2xlarge",
        mounts=["genomics/Data/samples.csv"],  # a data file: project/dataset/path or s3://bucket/key
        links=["s3://my-bucket/results/"],  # folders to link (AWS)
        cost_limit=50,  # USD; -1 is unlimited
        shutdown_in="8h",
        deferrable=True,  # wait in the triggerer, not in a worker slot
    )

    @task
    def work(session_id: str) -> None:
        """Anything that uses the running session (create waited until it runs)."""
        print(f"Working in session {session_id}")

    stop = CloudOSStopSessionOperator(task_id="stop", session_id=create.output, deferrable=True)
    work(create.output) >> stop.as_teardown(setups=create)  # paused even when `work` fails
