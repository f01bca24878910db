"""Who may pause a session: a table over mode x how the task found it x what ends the wait.

A task pauses, on a timeout, a guard or a kill, only a session it started or resumed itself (or its
earlier try did). A session it found already starting, or that somebody else resumed first (the
task's own resume then loses the race and is refused), belongs to someone else: it is never paused
by this task, whether the task waits here (blocking) or in the triggerer (deferrable).

Every row drives a real create or resume task against the simulator; sessions stay ``initialising``
for the whole test, so only the ending under test ends the wait. "Paused" means CloudOS received a
pause request for the session.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import TaskDeferred
from operator_helpers import FakeTI, expiring, run_trigger

from airflow_provider_cloudos.hooks.cloudos import CloudOSHook
from airflow_provider_cloudos.operators.cloudos_task import CloudOSSessionOperatorBase
from airflow_provider_cloudos.operators.sessions import (
    CloudOSCreateSessionOperator,
    CloudOSResumeSessionOperator,
)
from airflow_provider_cloudos.testing import CloudOSSimulator, StateTimings

#: Nothing reaches running, and a pause stays ``aborting``, for the length of a test.
STILL = StateTimings(scheduled=0.0, setup=0.0, initialising=60.0, aborting=60.0, resume_initialising=60.0)
#: What the guard rows set: a cost above the task's ``max_cost_usd``.
OVER_LIMIT_USD = 5.0
NAME = "owned-or-not"


@dataclass
class Found:
    """A task, the context it runs with, and the session it will meet (once known)."""

    task: CloudOSSessionOperatorBase
    context: dict[str, Any]
    session_id: Callable[[], str]


def _options(mode: str, ending: str) -> dict[str, Any]:
    return {
        "deferrable": mode == "deferrable",
        "poll_interval": 0.02,
        # Long enough for the create or resume before the wait on a loaded machine (the wait then times out).
        "timeout": 2.0 if (ending == "timeout" and mode == "blocking") else 20,
        "max_cost_usd": 1.0 if ending == "guard" else None,
        # A blocking kill is judged once the task has its session: on_kill after execute returns.
        "wait_for_running": not (ending == "kill" and mode == "blocking"),
    }


def _costly_after(
    sim: CloudOSSimulator, call: Callable[..., dict[str, Any]]
) -> Callable[..., dict[str, Any]]:
    """``call`` (a create or resume request) after which the session costs more than the guard allows."""

    def costly(*args: Any, **kwargs: Any) -> dict[str, Any]:
        try:
            answer = call(*args, **kwargs)
        finally:
            session_id = args[0] if isinstance(args[0], str) else None
            if session_id:
                sim.set_cost(session_id, OVER_LIMIT_USD)
        if answer.get("_id"):
            sim.set_cost(str(answer["_id"]), OVER_LIMIT_USD)
        return answer

    return costly


def _created(sim: CloudOSSimulator, options: dict[str, Any]) -> Found:
    task = CloudOSCreateSessionOperator(task_id="create", name=NAME, project_name="genomics", **options)
    return Found(task, {"ti": FakeTI()}, lambda: str(sim.sessions()[0]["_id"]))


def _retry_adopted(sim: CloudOSSimulator, options: dict[str, Any]) -> Found:
    """The first try created the session and died; the retry finds it live by name and adopts it."""
    session = sim.add_session(name=NAME, status="initialising", cost=_seed_cost(options))
    task = CloudOSCreateSessionOperator(task_id="create", name=NAME, project_name="genomics", **options)
    return Found(task, {"ti": FakeTI(try_number=2)}, lambda: str(session["_id"]))


def _resumed(sim: CloudOSSimulator, options: dict[str, Any]) -> Found:
    session = sim.add_session(name=NAME, status="aborted")
    task = CloudOSResumeSessionOperator(task_id="resume", session_id=session["_id"], **options)
    return Found(task, {"ti": FakeTI()}, lambda: str(session["_id"]))


def _already_starting(sim: CloudOSSimulator, options: dict[str, Any]) -> Found:
    """Somebody else's create or resume was under way: the task finds the session initialising."""
    session = sim.add_session(name=NAME, status="initialising", cost=_seed_cost(options))
    task = CloudOSResumeSessionOperator(task_id="resume", session_id=session["_id"], **options)
    return Found(task, {"ti": FakeTI()}, lambda: str(session["_id"]))


def _lost_race(sim: CloudOSSimulator, options: dict[str, Any]) -> Found:
    """The task read the session paused; somebody resumed it just before the task's own request."""
    session = sim.add_session(name=NAME, status="aborted")
    task = CloudOSResumeSessionOperator(task_id="resume", session_id=session["_id"], **options)
    other = CloudOSHook()
    own_request = task.hook.resume_session

    def resume_after_somebody(session_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        other.resume_session(session_id, {})
        return own_request(session_id, payload)

    task.hook.resume_session = resume_after_somebody  # type: ignore[method-assign]
    return Found(task, {"ti": FakeTI()}, lambda: str(session["_id"]))


def _seed_cost(options: dict[str, Any]) -> float:
    return OVER_LIMIT_USD if options["max_cost_usd"] is not None else 0.0


FOUND: dict[str, tuple[Callable[[CloudOSSimulator, dict[str, Any]], Found], bool]] = {
    # how the task found its session: (set-up, whether the task owns it)
    "it created it": (_created, True),
    "a retry adopted its earlier try's session": (_retry_adopted, True),
    "it resumed it": (_resumed, True),
    "someone else's create or resume was under way": (_already_starting, False),
    "it lost the resume race": (_lost_race, False),
}


def _end(found: Found, mode: str, ending: str) -> None:
    """Run the task until ``ending`` ends its wait (or, for a kill, until it holds the session)."""
    task, context = found.task, found.context
    if mode == "blocking":
        if ending == "kill":
            task.execute(context)
            task.on_kill()
            return
        with pytest.raises(Exception, match=r"did not become running within|cost") as raised:
            task.execute(context)
        assert "TaskDeferred" not in type(raised.value).__name__
        return
    with pytest.raises(TaskDeferred) as deferred:
        task.execute(context)
    trigger = deferred.value.trigger
    if ending == "timeout":
        event = run_trigger(expiring(trigger))
        assert event["status"] == "timeout", event
    elif ending == "guard":
        event = run_trigger(trigger)
        assert event["status"] == "guard", event
    else:
        asyncio.run(trigger.on_kill())


@pytest.mark.parametrize("ending", ["timeout", "guard", "kill"])
@pytest.mark.parametrize("found_how", list(FOUND))
@pytest.mark.parametrize("mode", ["blocking", "deferrable"])
def test_a_task_pauses_only_a_session_it_started_or_resumed(
    cloudos_conn: CloudOSSimulator, mode: str, found_how: str, ending: str
) -> None:
    cloudos_conn.set_timings(STILL)
    set_up, owned = FOUND[found_how]
    options = _options(mode, ending)
    found = set_up(cloudos_conn, options)
    if ending == "guard":
        found.task.hook.create_session = _costly_after(  # type: ignore[method-assign]
            cloudos_conn, found.task.hook.create_session
        )
        found.task.hook.resume_session = _costly_after(  # type: ignore[method-assign]
            cloudos_conn, found.task.hook.resume_session
        )
    _end(found, mode, ending)
    session_id = found.session_id()
    paused = [request for request in cloudos_conn.abort_requests if request[0] == session_id]
    if owned:
        assert paused, f"{mode}, {found_how}, {ending}: the task's own session was left running"
    else:
        assert not paused, f"{mode}, {found_how}, {ending}: the task paused a session it did not start"
    assert len(cloudos_conn.sessions()) == 1  # no second session on any path
