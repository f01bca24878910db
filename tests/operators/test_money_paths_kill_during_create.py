"""A create task killed while CloudOS is still answering its create request must pause what it made.

The session exists before its id reaches the task, so a kill at that moment can only find it by
name: the newest live session of the key's own user with the task's name. Mutation testing
found no unit test on this path (the reliability harness covers it, but is not run per mutant).
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
from operator_helpers import FAST, make_context

from airflow_provider_cloudos.operators.sessions import CloudOSCreateSessionOperator
from airflow_provider_cloudos.testing import CloudOSSimulator

NAME = "killed-while-creating"


def create(**kwargs: Any) -> CloudOSCreateSessionOperator:
    options = {"task_id": "create", "name": NAME, "project_name": "genomics", **FAST}
    options.update(kwargs)
    return CloudOSCreateSessionOperator(**options)


def held_create(sim: CloudOSSimulator, task: CloudOSCreateSessionOperator) -> tuple[threading.Thread, list]:
    """Run the task until CloudOS has made the session and holds back its answer."""
    sim.faults.hold_answers("create")
    outcome: list = []

    def run() -> None:
        try:
            outcome.append(task.execute(make_context()))
        except BaseException as error:
            outcome.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    for _ in range(1000):  # bounds a broken run at about 10 s
        if sim.faults.held:
            return thread, outcome
        time.sleep(0.01)
    raise AssertionError("the create request never reached the simulator")


def finish(sim: CloudOSSimulator, thread: threading.Thread) -> None:
    sim.faults.release_held()
    thread.join(10)
    assert not thread.is_alive()


def test_a_kill_while_the_create_answer_is_in_flight_pauses_the_session_it_made(cloudos_conn):
    sim = cloudos_conn
    task = create()
    thread, _ = held_create(sim, task)
    task.on_kill()
    made = [s for s in sim.sessions() if s.get("name") == NAME]
    assert len(made) == 1
    assert sim.abort_requests == [(made[0]["_id"], True, False)]
    finish(sim, thread)


def test_the_kill_pauses_only_the_key_owners_session_of_that_name(cloudos_conn):
    """Somebody else's live session with the same name is not this task's, and keeps running."""
    sim = cloudos_conn
    task = create()
    thread, _ = held_create(sim, task)
    others = sim.add_session(name=NAME, status="ready", owner="other")  # newer than the task's own
    task.on_kill()
    paused = [session_id for session_id, _, _ in sim.abort_requests]
    assert others["_id"] not in paused
    assert len(paused) == 1
    assert sim.session(others["_id"])["status"] == "ready"
    finish(sim, thread)


def test_the_kill_looks_for_the_name_being_created_not_another(cloudos_conn):
    """A live session of the same user under another name is left alone."""
    sim = cloudos_conn
    unrelated = sim.add_session(name="someone-elses-work", status="ready")
    task = create()
    thread, _ = held_create(sim, task)
    task.on_kill()
    assert [session_id for session_id, _, _ in sim.abort_requests] != [unrelated["_id"]]
    assert sim.session(unrelated["_id"])["status"] == "ready"
    assert len(sim.abort_requests) == 1
    finish(sim, thread)


def test_a_failed_lookup_on_the_kill_path_is_logged_not_raised(cloudos_conn, log_messages, monkeypatch):
    sim = cloudos_conn
    # Retries 10 ms apart: the lookup gives up on its retries, not on its cleanup budget.
    connection = json.loads(sim.connection_json())
    connection["extra"]["retry_delay"] = 0.01
    monkeypatch.setenv("AIRFLOW_CONN_CLOUDOS_DEFAULT", json.dumps(connection))
    task = create()
    thread, _ = held_create(sim, task)
    sim.faults.fail_next("list", status=500, count=10)
    task.on_kill()  # must not raise: Airflow is killing the task
    assert sim.abort_requests == []
    said = [m for m in log_messages() if m.startswith(f"Could not look for session {NAME!r} being created: ")]
    assert said, log_messages()
    assert "500" in said[0]  # what went wrong, as CloudOS answered
    finish(sim, thread)


@pytest.mark.parametrize("stop_on_kill", [False, "false"])
def test_without_stop_on_kill_the_session_being_created_is_left_alone(cloudos_conn, stop_on_kill):
    sim = cloudos_conn
    task = create(stop_on_kill=stop_on_kill)
    thread, _ = held_create(sim, task)
    lists_before = sim.counters.requests("list")
    task.on_kill()
    assert sim.counters.requests("list") == lists_before
    assert sim.abort_requests == []
    finish(sim, thread)


def test_a_kill_finding_no_live_session_of_that_name_pauses_nothing(cloudos_conn):
    """The session the request made is already gone (terminated): nothing to pause, nothing raised."""
    sim = cloudos_conn
    task = create()
    thread, _ = held_create(sim, task)
    (made,) = [s for s in sim.sessions() if s.get("name") == NAME]
    sim.terminate_session(made["_id"])
    task.on_kill()
    assert sim.abort_requests == []
    finish(sim, thread)
