"""Killing a stop task pauses nothing: it started nothing, and it has no ``stop_on_kill`` to read."""

from __future__ import annotations

from operator_helpers import FAST

from airflow_provider_cloudos.operators.sessions import CloudOSStopSessionOperator


def test_killing_a_stop_task_makes_no_request_and_raises_nothing(cloudos_conn):
    session = cloudos_conn.add_session(name="to-stop", status="ready")
    task = CloudOSStopSessionOperator(task_id="stop", session_id=session["_id"], **FAST)
    task.on_kill()
    assert cloudos_conn.counters.requests() == 0
    assert cloudos_conn.session(session["_id"])["status"] == "ready"
