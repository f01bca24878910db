"""An operator's ``timeout`` bounds its API calls, not only its wait: a slow server cannot hold
a worker (and the session it may be creating) past the time the DAG author gave the task."""

from __future__ import annotations

import pytest
from airflow.providers.common.compat.sdk import AirflowException
from operator_helpers import make_context

from airflow_provider_cloudos.operators.sessions import CloudOSCreateSessionOperator


def test_a_call_that_outlives_the_operators_timeout_is_cut_there_and_says_whose_deadline(cloudos_conn):
    cloudos_conn.faults.only_endpoints = {"list"}
    cloudos_conn.faults.latency = 30.0
    create = CloudOSCreateSessionOperator(
        task_id="create", name="slow", project_name="genomics", timeout=1, poll_interval=0.02
    )
    with pytest.raises(AirflowException) as raised:
        create.execute(make_context())
    message = str(raised.value)
    assert "the deadline of the operator's timeout (1s) was reached" in message, message
    assert cloudos_conn.counters.requests("create") == 0
