"""The fleet wait of the upgrade test (tests/deployment/test_upgrade.py), beside the soak's DAGs.

``cloudos_upgrade_fleet`` pauses every running session named ``upgrade-fleet-*`` and waits, deferred,
until each is paused: a fleet trigger, the trigger kind whose class was renamed after release 0.1.0
(``CloudOSSessionsTrigger`` -> ``CloudOSFleetTrigger``), so a row written before an upgrade names
the old class. The file is parsed by the build the deployment runs, the older or the current one:
it uses only what both have.
"""

from __future__ import annotations

import pendulum
from airflow.providers.common.compat.sdk import DAG

from airflow_provider_cloudos.operators.fleet import CloudOSPauseSessionsOperator

with DAG(
    dag_id="cloudos_upgrade_fleet",
    schedule=None,
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    tags=["cloudos", "soak"],
):
    CloudOSPauseSessionsOperator(
        task_id="pause_fleet",
        name_pattern="upgrade-fleet-*",
        wait_for_paused=True,
        deferrable=True,
        poll_interval=2,
        retries=0,
    )
