"""A session for an analyst: start it, tell them it is ready, pause it when they are done.

The session block creates an RStudio session and waits until it runs. Its body is one task that
waits for the analyst:

* Airflow 3.1+: a human-in-the-loop task (``HITLOperator``). The analyst finds it under
  *Required actions*, with the session's URL in its text, and answers **Done** when finished.
* Older Airflow (no human-in-the-loop operators): a sensor that waits until the analyst pauses
  the session themselves in CloudOS (the task's *CloudOS Session* button and its log show the
  URL). At the deadline it gives up quietly (``soft_fail``) and the block pauses the session.

Whichever comes first ends the session: the analyst's answer (or their own pause), the deadline
(``DEADLINE``; the human-in-the-loop task then takes its default answer, "Done"), or the block's
cost guard (``max_cost_usd`` / ``max_runtime``), which pauses the session at once and fails the
run with the reason. The block's teardown pauses the session in the first two cases.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.providers.common.compat.sdk import DAG

from airflow_provider_cloudos import cloudos_session
from airflow_provider_cloudos.sensors.sessions import CloudOSSessionSensor

try:  # Airflow 3.1+ with the standard provider
    from airflow.providers.standard.operators.hitl import HITLOperator
except Exception:  # ImportError, or the provider's "needs Airflow 3.1+" refusal
    HITLOperator = None

DAG_ID = "example_cloudos_analyst_session"
DONE = "Done"
#: How long the analyst has; then the session is paused whatever they say.
DEADLINE = timedelta(hours=8)
POLL_SECONDS = 2

with (
    DAG(
        dag_id=DAG_ID,
        description="Start a CloudOS session for an analyst; pause it when they are done.",
        schedule=None,
        start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
        catchup=False,
        tags=["cloudos", "example", "human-in-the-loop"],
        doc_md=__doc__,
    ) as dag,
    cloudos_session(
        "analyst_session",
        session_type="rstudio",
        project_name="genomics",
        mounts=["genomics/Data/samples.csv"],
        shutdown_in="10h",  # CloudOS's own stop, beyond the deadline
        max_cost_usd=50,
        max_runtime="9h",
        deferrable=True,
        poll_interval=POLL_SECONDS,
    ) as session,
):
    if HITLOperator is not None:
        HITLOperator(
            task_id="analyst_done",
            subject="Your RStudio session is ready",
            body=(
                f"Open your session: {session.url}\n\n"
                f"Answer **{DONE}** when you have finished: the session is then paused (its data "
                f"is saved). It is paused anyway after {DEADLINE}, or as soon as it costs $50."
            ),
            options=[DONE],
            defaults=[DONE],
            response_timeout=DEADLINE,
        )
    else:
        CloudOSSessionSensor(
            task_id="analyst_done",
            session_id=session.session_id,
            target_status="paused",
            mode="reschedule",
            poke_interval=60,
            timeout=DEADLINE.total_seconds(),
            soft_fail=True,
        )
