"""The pipeline that runs when a CloudOS session has saved its results (the consumer of a pair).

It is scheduled on the S3 folder the session of ``example_cloudos_results_producer`` links:
Airflow starts a run each time a pause of such a session saves its data (the pause records an
asset event for the folder). Its task reads those events: which session saved, when, after how
long and at what cost.

A CloudOS project folder is an asset too, with the provider's URI scheme:
``cloudos://<host[:port]>/<workspace id>/<project>/<dataset>/<path>`` (docs/assets.md).
The same file parses on Airflow 2.11, where assets are datasets.
"""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.providers.common.compat.sdk import DAG, Asset, AssetAlias, task

DAG_ID = "example_cloudos_results_pipeline"
#: The folder the producer's session links (``RESULTS_FOLDER`` there).
RESULTS_FOLDER = "s3://team-results/rnaseq/"

with DAG(
    dag_id=DAG_ID,
    description="Runs when a CloudOS session has saved its results into s3://team-results/rnaseq/.",
    schedule=[Asset(RESULTS_FOLDER)],
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    tags=["cloudos", "example", "assets"],
    doc_md=__doc__,
) as dag:

    @task
    def process_results(**context: Any) -> list[dict[str, Any]]:
        """Stands for the processing; returns the saves that started this run, one per folder event."""
        # The events behind this run: Airflow 3 calls them asset events, 2.11 dataset events.
        events = context.get("triggering_asset_events") or context.get("triggering_dataset_events") or {}
        saved = []
        for key, folder_events in events.items():
            if isinstance(key, AssetAlias):  # Airflow 3 lists each event under its alias too
                continue
            for event in folder_events:
                folder = getattr(event, "asset", None) or getattr(event, "dataset", None)
                saved.append({"uri": str(getattr(folder, "uri", "")), **dict(event.extra or {})})
        for save in saved:
            print(
                f"{save['uri']}: saved by session {save.get('session_name')!r} ({save.get('session_id')})"
                f" at {save.get('saved_at')} after {save.get('running_time_seconds')} s"
                f" for ${save.get('cost_usd')}"
            )
        return saved

    process_results()
