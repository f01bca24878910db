"""Watch a running session and pause it once it has cost $50 or run for 8 hours."""

import pendulum
from airflow.providers.common.compat.sdk import DAG

from airflow_provider_cloudos.operators import CloudOSStopSessionOperator
from airflow_provider_cloudos.sensors import CloudOSSessionSensor

with DAG(
    dag_id="cloudos_cost_guard",
    schedule=None,
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    params={"session_id": "64f0c0ffee0123456789abcd"},  # the session to watch; or an upstream create.output
):
    watch = CloudOSSessionSensor(
        task_id="watch_costs",
        session_id="{{ params.session_id }}",
        max_cost_usd=50,
        max_runtime="8h",
        deferrable=True,
        poke_interval=300,
        timeout=24 * 3600,
    )
    stop = CloudOSStopSessionOperator(task_id="stop", session_id="{{ params.session_id }}")
    watch >> stop
