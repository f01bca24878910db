"""Every evening, pause each running session that is not on the allow-list."""

import pendulum
from airflow.providers.common.compat.sdk import DAG

from airflow_provider_cloudos.operators import CloudOSPauseSessionsOperator

with DAG(
    dag_id="cloudos_pause_running_sessions",
    schedule="0 20 * * *",
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
):
    pause = CloudOSPauseSessionsOperator(
        task_id="pause_running_sessions",
        statuses="running",  # the default; a list or "running,setup" also work
        exclude_names=["shared-dashboard", "long-training-*"],  # the allow-list: names or globs
        # only_owner=True, name_pattern="nightly-*", min_runtime="2h", min_cost_usd=5, exclude_ids=[...]
        dry_run=False,
        wait_for_paused=True,
        deferrable=True,
    )
