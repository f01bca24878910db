"""Which try of a create task may carry on with a paused session of its name: money decided by the
try number. A retry takes the session its first try paused (resumes it) instead of creating a
second; a first try, or a try whose number cannot be read, never resumes one by surprise."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from operator_helpers import FAST, FakeTI

from airflow_provider_cloudos.operators.sessions import CloudOSCreateSessionOperator
from airflow_provider_cloudos.testing import StateTimings

QUICK = StateTimings(scheduled=0.0, setup=0.0, initialising=0.02, aborting=0.02, resume_initialising=0.02)


def create() -> CloudOSCreateSessionOperator:
    return CloudOSCreateSessionOperator(task_id="create", name="retried", project_name="genomics", **FAST)


@pytest.fixture
def paused_earlier(cloudos_conn) -> dict[str, Any]:
    """A paused session of the task's name and settings, as a first try that timed out leaves it."""
    cloudos_conn.set_timings(QUICK)
    return cloudos_conn.add_session(name="retried", status="aborted")


def test_a_retry_resumes_the_paused_session_instead_of_creating_a_second(cloudos_conn, paused_earlier):
    assert create().execute({"ti": FakeTI(try_number=2)}) == paused_earlier["_id"]
    assert cloudos_conn.counters.requests("create") == 0
    assert cloudos_conn.counters.requests("resume") == 1


@pytest.mark.parametrize(
    "context",
    [
        {"ti": FakeTI(try_number=1)},
        {"ti": SimpleNamespace(try_number=None, xcom_push=lambda key, value: None)},
        {"ti": SimpleNamespace(try_number="2", xcom_push=lambda key, value: None)},
        {"ti": SimpleNamespace(xcom_push=lambda key, value: None)},
    ],
    ids=["first-try", "no-number", "number-as-text", "no-try-number-at-all"],
)
def test_a_try_that_is_not_known_to_be_a_retry_creates_its_own_session(cloudos_conn, paused_earlier, context):
    assert create().execute(context) != paused_earlier["_id"]
    assert cloudos_conn.counters.requests("create") == 1
    assert cloudos_conn.counters.requests("resume") == 0
    assert cloudos_conn.session(paused_earlier["_id"])["status"] == "aborted"
