"""A pipeline in one block: ``cloudos_session`` creates a session, the body works in it, it is paused.

The block is a task group (``analysis`` in the grid) holding:

* ``analysis.create``: creates the session and waits until it runs (deferred);
* the body, declared inside the ``with``: ``analysis.report`` (a BashOperator given the session's
  URL and id through XCom references) and ``analysis.summarize`` (a TaskFlow task given the
  summary);
* ``analysis.guard``: pauses the session and fails the block as soon as it costs $20 or has run
  2 hours, while the body still runs;
* ``analysis.pause``: the teardown; it pauses the session even when the body fails.

Nothing here touches the network when the DAG is parsed. The short poll interval suits the local
simulator (``python -m airflow_provider_cloudos.demo``); against a real CloudOS, 30-60 s is plenty.
"""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.providers.common.compat.sdk import DAG, task

try:
    from airflow.providers.standard.operators.bash import BashOperator
except ImportError:  # Airflow 2.11 without the standard provider
    from airflow.operators.bash import BashOperator

from airflow_provider_cloudos import cloudos_session

DAG_ID = "example_cloudos_session_block"
POLL_SECONDS = 2

with (
    DAG(
        dag_id=DAG_ID,
        description="Create a CloudOS session, work in it, pause it: one task group.",
        schedule=None,
        start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
        catchup=False,
        tags=["cloudos", "example"],
        doc_md=__doc__,
    ) as dag,
    cloudos_session(
        "analysis",
        session_type="rstudio",
        project_name="genomics",
        mounts=["genomics/Data/samples.csv"],
        shutdown_in="8h",
        max_cost_usd=20,
        max_runtime="2h",
        deferrable=True,
        poll_interval=POLL_SECONDS,
    ) as session,
):
    report = BashOperator(
        task_id="report",
        bash_command='echo "working in session $SESSION_ID at $SESSION_URL"',
        env={"SESSION_URL": session.url, "SESSION_ID": session.session_id},
    )

    @task
    def summarize(summary: dict[str, Any]) -> str:
        """Stands for the real work; gets the session summary the create task pushed."""
        print(f"Session {summary['name']!r} is {summary['status']} ({summary['session_type']})")
        return str(summary["id"])

    report >> summarize(session.summary)
