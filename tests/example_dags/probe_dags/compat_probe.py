"""A DAG whose last task reports, from inside a real Airflow run, which ``compat`` branch it takes.

``tests/example_dags/test_compat_in_a_real_run.py`` runs it with ``airflow dags test`` and checks
the report against the Airflow version. The probe reads task states through the running
Airflow (the task SDK's supervisor and execution API on 3.x, the metadata database on 2.11) and
computes the deferral deadline from the running try's start, and drives a real
``CloudOSSessionTrigger`` through both kill paths against a simulator of its own:

* a cancellation of ``run()``, which is how 2.11 and 3.0-3.2 end a killed deferred task;
* ``on_kill()``, which 3.3+ calls instead.

The trigger is given the ``finished`` task as its task instance: a task that is no longer
deferred, so a kill of it must pause the session wherever the branch says it should.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from airflow.providers.common.compat.sdk import DAG, BaseOperator

from airflow_provider_cloudos import compat
from airflow_provider_cloudos.core.status import map_status
from airflow_provider_cloudos.testing import CloudOSSimulator, ManualClock
from airflow_provider_cloudos.triggers.sessions import CloudOSSessionTrigger

DAG_ID = "compat_probe"
#: The log line the test reads the report from.
REPORT_MARKER = "COMPAT_PROBE_REPORT "
PROBE_CONN_ID = "cloudos_probe"
#: Bounds the wait for the trigger's first poll (a hang guard, not a timing assumption).
MAX_WAIT_FOR_POLL_SECONDS = 60.0


class FinishedOperator(BaseOperator):
    """Does nothing: its only job is to be a task that has ended when the probe runs."""

    def execute(self, context: Any) -> None:
        return None


def _trigger(session_id: str, finished_task: Any) -> CloudOSSessionTrigger:
    trigger = CloudOSSessionTrigger(
        session_id=session_id,
        end_time=time.time() + 3600,
        cloudos_conn_id=PROBE_CONN_ID,
        poll_interval=0.05,
        stop_on_kill=True,
    )
    trigger.task_instance = finished_task
    return trigger


async def _cancelled_while_polling(simulator: CloudOSSimulator, finished_task: Any) -> str:
    """Cancel a polling trigger as 2.11/3.0-3.2 do on a kill; the session's status afterwards."""
    session = simulator.add_session(name="probe-cancel", status="setup")
    polls_before = simulator.counters.requests("get")
    waiting = asyncio.ensure_future(_trigger(session["_id"], finished_task).run().__anext__())
    deadline = time.monotonic() + MAX_WAIT_FOR_POLL_SECONDS
    while simulator.counters.requests("get") == polls_before and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    waiting.cancel()
    await asyncio.gather(waiting, return_exceptions=True)
    return map_status(simulator.session(session["_id"])["status"])


async def _killed_through_on_kill(simulator: CloudOSSimulator, finished_task: Any) -> str:
    """Call ``on_kill()`` as 3.3+ does on a kill; the session's status afterwards."""
    session = simulator.add_session(name="probe-on-kill", status="setup")
    await _trigger(session["_id"], finished_task).on_kill()
    return map_status(simulator.session(session["_id"])["status"])


class CompatProbeOperator(BaseOperator):
    """Report what ``compat`` sees and does inside this Airflow's task run."""

    def execute(self, context: Any) -> None:
        ti = compat.context_task_instance(context)
        assert ti is not None, "no task instance in the context"
        finished = SimpleNamespace(dag_id=ti.dag_id, task_id="finished", run_id=ti.run_id, map_index=-1)
        # The simulator's clock never moves, so the sessions stay in "setup" until paused.
        with CloudOSSimulator(clock=ManualClock()) as simulator:
            os.environ[f"AIRFLOW_CONN_{PROBE_CONN_ID.upper()}"] = simulator.connection_json()
            after_cancel = asyncio.run(_cancelled_while_polling(simulator, finished))
            after_on_kill = asyncio.run(_killed_through_on_kill(simulator, finished))
        # 2.11 ends a deferral at this try's start + execution_timeout; 3.x does not.
        ten_minutes = SimpleNamespace(execution_timeout=timedelta(minutes=10))
        asked_at = time.time()
        deadline = compat.framework_deferral_deadline(ten_minutes)
        report = {
            "context_has_ti": ti is context["ti"],
            "deferral_deadline_in": None if deadline is None else deadline - asked_at,
            "has_task_state_store": compat.task_state_store(context) is not None,
            "finished_state": compat._current_task_state(ti.dag_id, "finished", ti.run_id, -1),
            "own_state": compat._current_task_state(ti.dag_id, ti.task_id, ti.run_id, -1),
            "finished_still_deferred": asyncio.run(compat.task_still_deferred(_trigger("a" * 24, finished))),
            "trigger_has_on_kill": compat.trigger_has_on_kill(),
            "after_cancel": after_cancel,
            "after_on_kill": after_on_kill,
        }
        self.log.info("%s%s", REPORT_MARKER, json.dumps(report, sort_keys=True))


with DAG(dag_id=DAG_ID, schedule=None, start_date=datetime(2025, 1, 1, tzinfo=UTC), catchup=False):
    FinishedOperator(task_id="finished") >> CompatProbeOperator(task_id="probe")
