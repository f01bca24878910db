"""Nightly cleanup: report what the workspace's sessions cost, then pause what is still running.

Every evening at 20:00:

1. ``report`` lists every session of the workspace (all pages) with its status, type, instance,
   owner, cost, runtime and time to auto-shutdown, most expensive first, and (the access audit)
   which files each one mounts and which folders it links; the rows go to XCom and to a CSV file
   per day, the record an auditor asks for.
2. ``pause_running_sessions`` pauses every session that is still running, except those on the
   allow-list (names or globs), saving their data. One session that cannot be paused does not
   stop the others; the task fails at the end, naming each one. It then waits, in the triggerer,
   until all of them are paused.

Trigger it by hand with ``{"dry_run": true}`` to see what it would pause without pausing
anything, or with another ``allow_list``. Nothing here touches the network when the DAG is
parsed: the ``cloudos_default`` connection is read only when a task runs. The CSV folder comes
from the Airflow variable ``cloudos_report_dir`` (default ``/tmp/cloudos-reports``).
"""

from __future__ import annotations

import pendulum
from airflow.providers.common.compat.sdk import DAG, Param

from airflow_provider_cloudos.operators.fleet import (
    CloudOSPauseSessionsOperator,
    CloudOSSessionReportOperator,
)

DAG_ID = "example_cloudos_nightly_cleanup"
#: Sessions that may run overnight: exact names or shell-style globs.
ALLOW_LIST = ["shared-dashboard", "long-training-*"]

with DAG(
    dag_id=DAG_ID,
    description="Report CloudOS session costs, then pause every running session not on the allow-list.",
    schedule="0 20 * * *",
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    tags=["cloudos", "example"],
    doc_md=__doc__,
    # Params keep their types in the operators' fields (the allow-list stays a list, dry_run a bool).
    render_template_as_native_obj=True,
    params={
        "allow_list": Param(
            ALLOW_LIST,
            type="array",
            items={"type": "string"},
            title="Never pause these",
            description="Session names or globs (e.g. 'long-training-*') to leave running.",
        ),
        "dry_run": Param(False, type="boolean", title="Dry run: report what would be paused"),
    },
) as dag:
    report = CloudOSSessionReportOperator(
        task_id="report",
        csv_path="{{ var.value.get('cloudos_report_dir', '/tmp/cloudos-reports') }}/sessions-{{ ds }}.csv",
        include_access=True,
    )

    pause = CloudOSPauseSessionsOperator(
        task_id="pause_running_sessions",
        statuses="running",
        exclude_names="{{ params.allow_list }}",
        dry_run="{{ params.dry_run }}",
        upload_on_close=True,
        wait_for_paused=True,
        # Pausing with a data upload takes minutes: wait in the triggerer, not in a worker slot.
        deferrable=True,
        poll_interval=30,
        timeout="1h",
    )

    report >> pause
