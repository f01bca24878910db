"""Working hours for a team's CloudOS session: resume it in the morning, pause it in the evening.

Two small DAGs from one file, on weekdays only:

* ``example_cloudos_working_hours_resume`` at 08:00 resumes the session (and waits until it runs);
* ``example_cloudos_working_hours_pause`` at 20:00 pauses it (saving its data first).

Both are idempotent: resuming a session that is already running, or pausing one that is already
paused, succeeds without touching it, so a rerun, a manual trigger or a colleague who already
paused the session by hand is never an error. A terminated session is a clear failure.

Which session: the ``session_id`` param when a run gives one (trigger with
``{"session_id": "..."}``), else the Airflow Variable ``cloudos_team_session_id``. Both are read
only when the task runs, so the DAGs parse with neither set. The schedule is in UTC; give
``start_date`` your team's time zone (e.g. ``pendulum.datetime(2025, 1, 1, tz="Europe/Madrid")``)
to follow local office hours. As with any ``catchup=False`` schedule, unpausing a DAG runs its
latest slot at once: the pause DAG unpaused at noon pauses the session straight away.
"""

from __future__ import annotations

import pendulum
from airflow.providers.common.compat.sdk import DAG, Param

from airflow_provider_cloudos.operators.sessions import (
    CloudOSResumeSessionOperator,
    CloudOSStopSessionOperator,
)

RESUME_DAG_ID = "example_cloudos_working_hours_resume"
PAUSE_DAG_ID = "example_cloudos_working_hours_pause"
#: Where the session id comes from when a run does not name one.
SESSION_VARIABLE = "cloudos_team_session_id"
SESSION_ID = "{{ params.session_id or var.value.get('" + SESSION_VARIABLE + "', '') }}"
POLL_SECONDS = 2


def _session_param() -> dict[str, Param]:
    return {
        "session_id": Param(
            None,
            type=["null", "string"],
            title="Session id",
            description=f"The team session (24 hex); empty: the Variable {SESSION_VARIABLE!r}.",
        ),
    }


START_DATE = pendulum.datetime(2025, 1, 1, tz="UTC")
TAGS = ["cloudos", "example"]

with DAG(
    dag_id=RESUME_DAG_ID,
    description="Resume the team's CloudOS session at 08:00 on weekdays.",
    schedule="0 8 * * 1-5",
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    params=_session_param(),
    tags=TAGS,
    doc_md=__doc__,
) as resume_dag:
    CloudOSResumeSessionOperator(
        task_id="resume",
        session_id=SESSION_ID,
        deferrable=True,
        poll_interval=POLL_SECONDS,
        timeout="30m",
    )

with DAG(
    dag_id=PAUSE_DAG_ID,
    description="Pause the team's CloudOS session at 20:00 on weekdays.",
    schedule="0 20 * * 1-5",
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    params=_session_param(),
    tags=TAGS,
    doc_md=__doc__,
) as pause_dag:
    CloudOSStopSessionOperator(
        task_id="pause",
        session_id=SESSION_ID,
        upload_on_close=True,
        deferrable=True,
        poll_interval=POLL_SECONDS,
        timeout="30m",
    )
