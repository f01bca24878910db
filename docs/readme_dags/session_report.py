"""Every morning, a report of the workspace's sessions, also written as a CSV file."""

import tempfile
from pathlib import Path

import pendulum
from airflow.providers.common.compat.sdk import DAG

from airflow_provider_cloudos.operators import CloudOSSessionReportOperator

with DAG(
    dag_id="cloudos_session_report",
    schedule="0 7 * * *",
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    # The report's folder when the Variable cloudos_report_dir is not set (a run can give another).
    params={"report_dir": str(Path(tempfile.gettempdir()) / "cloudos-reports")},
):
    report = CloudOSSessionReportOperator(
        task_id="report",
        # optional; parent folders are created. The folder: the Variable cloudos_report_dir, else report_dir.
        csv_path="{{ var.value.get('cloudos_report_dir', params.report_dir) }}/cloudos-{{ ds }}.csv",
        # statuses=["running", "setup"], only_owner=True, include_archived=True
    )
