"""The DAG of the shared-reads deployment scenario (tests/deployment/test_shared_reads_at_scale.py).

``cloudos_shared_reads``: one deferrable sensor per session the test added to the simulator, each
waiting for ``running`` at a 1 s poll. The sensors start in the triggerer (``start_from_trigger``):
the scheduler writes each one's trigger itself, so a thousand waits reach the triggerers without
a thousand task starts on the two-core machine's Celery workers, and what is measured is the
triggerers' reading. The trigger is the provider's own, with the kwargs the sensor would defer with.

The sessions and the waits' deadline come from the JSON file named by
``CLOUDOS_SHARED_READS_SESSIONS`` (written by the test before the DAG is parsed, so every parse
gives the same DAG); without it (the soak's deployment) this file defines no DAG.
"""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pendulum
from airflow.providers.common.compat.sdk import DAG
from airflow.triggers.base import StartTriggerArgs

from airflow_provider_cloudos.sensors.sessions import CloudOSSessionSensor

TRIGGER = "airflow_provider_cloudos.triggers.sessions.CloudOSSessionTrigger"
POLL_SECONDS = 1.0


class SessionSensorStartingInTheTriggerer(CloudOSSessionSensor):
    """The provider's sensor, deferred by the scheduler straight to the provider's trigger."""

    start_from_trigger = True

    def __init__(self, *, end_time: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.start_trigger_args = StartTriggerArgs(
            trigger_cls=TRIGGER,
            next_method="execute_complete",
            trigger_kwargs={
                "session_id": kwargs["session_id"],
                "end_time": end_time,
                "target_statuses": ["running"],
                "poll_interval": POLL_SECONDS,
            },
            timeout=timedelta(hours=2),
        )


def _plan() -> dict[str, Any] | None:
    path = os.environ.get("CLOUDOS_SHARED_READS_SESSIONS")
    return json.loads(Path(path).read_text()) if path and Path(path).exists() else None


plan = _plan()
if plan is not None:
    with DAG(
        dag_id="cloudos_shared_reads",
        schedule=None,
        start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
        catchup=False,
        max_active_tasks=len(plan["session_ids"]) + 1,
        tags=["cloudos", "deployment"],
    ) as dag:
        for number, session_id in enumerate(plan["session_ids"]):
            SessionSensorStartingInTheTriggerer(
                task_id=f"wait_{number:04d}",
                session_id=session_id,
                end_time=float(plan["end_time"]),
                target_status="running",
                deferrable=True,
                poke_interval=POLL_SECONDS,
                timeout=3600,
                retries=0,
            )
