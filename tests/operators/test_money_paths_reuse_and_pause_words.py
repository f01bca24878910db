"""Which same-named session a create task carries on with, and what a stop task says it did.

A retry that finds both a live session and a paused one of its name carries on with the live one
(resuming the paused one would bill twice); a session with other links is not this task's; the
stop task's log line states whether the data is saved and whether the pause was forced.
"""

from __future__ import annotations

from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException
from operator_helpers import FAST, make_context

from airflow_provider_cloudos.operators.sessions import (
    CloudOSCreateSessionOperator,
    CloudOSStopSessionOperator,
)
from airflow_provider_cloudos.testing import StateTimings

NAME = "nightly"
QUICK = StateTimings(scheduled=0.0, setup=0.0, initialising=0.02, aborting=0.02, resume_initialising=0.02)


def create(**kwargs: Any) -> CloudOSCreateSessionOperator:
    return CloudOSCreateSessionOperator(
        task_id="create", name=NAME, project_name="genomics", **FAST, **kwargs
    )


def test_a_retry_carries_on_with_the_live_session_rather_than_the_paused_one(cloudos_conn, log_messages):
    cloudos_conn.set_timings(QUICK)
    live = cloudos_conn.add_session(name=NAME, status="ready")
    paused = cloudos_conn.add_session(name=NAME, status="aborted")  # the newer: listed first
    assert create().execute(make_context(try_number=2)) == live["_id"]
    assert cloudos_conn.counters.requests("resume") == 0
    assert cloudos_conn.counters.requests("create") == 0
    assert cloudos_conn.session(paused["_id"])["status"] == "aborted"
    assert (
        f"Carrying on with session {live['_id']} named {NAME!r} (running), which has the settings this task "
        "asks for, instead of creating a second one"
    ) in log_messages()


def test_a_same_named_session_without_the_links_asked_for_is_not_this_tasks(cloudos_conn):
    cloudos_conn.set_timings(QUICK)
    cloudos_conn.add_session(name=NAME, status="ready")
    with pytest.raises(AirflowFailException, match=NAME):
        create(links="genomics/Data/results").execute(make_context())
    assert cloudos_conn.counters.requests("create") == 0


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({}, "saving its data: yes"),
        ({"upload_on_close": False, "force": True}, "saving its data: no; forced"),
    ],
    ids=["saving", "not-saving-forced"],
)
def test_the_stop_task_says_what_it_asked_for(cloudos_conn, log_messages, kwargs, words):
    cloudos_conn.set_timings(QUICK)
    session = cloudos_conn.add_session(name=NAME, status="ready")
    stop = CloudOSStopSessionOperator(
        task_id="stop", session_id=session["_id"], wait_for_paused=False, **FAST, **kwargs
    )
    stop.execute(make_context())
    page = f"{cloudos_conn.url}/app/data-science/interactive-analysis/view/{session['_id']}"
    assert f"Pausing session {session['_id']} (was running; {words}): {page}" in log_messages()
