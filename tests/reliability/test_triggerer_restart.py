"""Triggerer restart: a trigger stopped mid-wait and rebuilt elsewhere finishes the same wait.

When a triggerer shuts down (or loses its heartbeat), its triggers are cancelled and later
rebuilt from their stored kwargs on another triggerer, in another process and event loop. The
rebuilt trigger must reach the event the original would have, keep the original wall-clock
deadline (never restart the clock), and the cancellation itself must not pause the session
(only a kill may).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import TaskDeferred
from reliability_helpers import (
    Artefacts,
    FakeTI,
    TaskDriver,
    async_wait_until,
    display_status,
    first_event,
    record,
)

from airflow_provider_cloudos.operators.sessions import (
    CloudOSCreateSessionOperator,
    CloudOSResumeSessionOperator,
    CloudOSStopSessionOperator,
)
from airflow_provider_cloudos.sensors.sessions import CloudOSSessionSensor
from airflow_provider_cloudos.testing import CloudOSSimulator, ManualClock, StateTimings
from airflow_provider_cloudos.triggers.sessions import CloudOSSessionTrigger

POLL = 0.05
#: The phase the move happens in. Its length is on the simulator's manual clock, which stands still
#: until the test moves it: the first triggerer polls as often as it likes, and the session is
#: still mid-phase when it stops, however slow the machine.
SLOW_PHASE = 1.0
#: Moved on the manual clock once the first triggerer stopped: past every phase of every case.
PAST_EVERY_PHASE = 60.0


@pytest.fixture
def manual_sim(
    sentinel_api_key: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[CloudOSSimulator, ManualClock]]:
    """The ``cloudos_default`` simulator, its state machine on a manual clock."""
    clock = ManualClock()
    with CloudOSSimulator(api_key=sentinel_api_key, clock=clock) as sim:
        monkeypatch.setenv("AIRFLOW_CONN_CLOUDOS_DEFAULT", sim.connection_json())
        yield sim, clock


def run_on_a_triggerer(
    trigger: CloudOSSessionTrigger, stop_when: Callable[[], bool] | None = None
) -> dict[str, Any]:
    """Run the trigger in a new thread with its own event loop, as another triggerer would.

    With ``stop_when``, the run is cancelled (triggerer shutdown) once the condition holds.
    """
    outcome: dict[str, Any] = {}

    async def main() -> None:
        running = asyncio.create_task(first_event(trigger))
        if stop_when is None:
            outcome["event"] = await asyncio.wait_for(running, timeout=30)
            return
        await async_wait_until(stop_when, limit=20)
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
        outcome["cancelled"] = True

    def target() -> None:
        try:
            asyncio.run(main())
        except BaseException as error:
            outcome["error"] = error

    thread = threading.Thread(target=target, name="triggerer", daemon=True)
    thread.start()
    thread.join(40)
    assert not thread.is_alive(), "the triggerer thread did not finish"
    if "error" in outcome:
        raise outcome["error"]
    return outcome


def _stored(trigger: CloudOSSessionTrigger, artefacts: Artefacts) -> dict[str, Any]:
    """The kwargs as the metadata database keeps them."""
    _, kwargs = trigger.serialize()
    stored: dict[str, Any] = json.loads(json.dumps(kwargs))
    artefacts.add("trigger_kwargs", stored)
    return stored


def _deferred_task(
    sim: CloudOSSimulator, kind: str, timeout: float
) -> tuple[Any, CloudOSSessionTrigger, str]:
    """A task of ``kind`` deferred mid-wait; returns (operator factory, trigger, session id)."""
    common: dict[str, Any] = {"deferrable": True, "poll_interval": POLL, "timeout": timeout}
    if kind == "create":
        sim.set_timings(StateTimings(scheduled=0.0, setup=SLOW_PHASE, initialising=0.05, aborting=0.05))

        def make() -> Any:
            return CloudOSCreateSessionOperator(
                task_id="create", name="restart", project_id=sim.project_id, **common
            )

    elif kind == "stop":
        sim.set_timings(StateTimings(aborting=SLOW_PHASE))
        session_id = sim.add_session(name="restart", status="ready")["_id"]

        def make() -> Any:
            return CloudOSStopSessionOperator(task_id="stop", session_id=session_id, **common)

    elif kind == "resume":
        sim.set_timings(StateTimings(aborting=0.05, resume_initialising=SLOW_PHASE))
        session_id = sim.add_session(name="restart", status="aborted")["_id"]

        def make() -> Any:
            return CloudOSResumeSessionOperator(task_id="resume", session_id=session_id, **common)

    else:
        sim.set_timings(StateTimings(scheduled=0.0, setup=SLOW_PHASE, initialising=0.05))
        session_id = sim.add_session(name="restart", status="setup")["_id"]

        def make() -> Any:
            return CloudOSSessionSensor(
                task_id="sensor", session_id=session_id, deferrable=True, poke_interval=POLL, timeout=timeout
            )

    with pytest.raises(TaskDeferred) as deferred:
        make().execute({"ti": FakeTI("task", 1, Artefacts())})
    trigger = deferred.value.trigger
    return make, trigger, trigger.session_id


@pytest.mark.parametrize(
    ("kind", "target"),
    [("create", "running"), ("stop", "paused"), ("resume", "running"), ("sensor", "running")],
)
def test_rebuilt_trigger_finishes_the_wait_with_the_original_deadline(
    manual_sim: tuple[CloudOSSimulator, ManualClock],
    driver: TaskDriver,
    artefacts: Artefacts,
    kind: str,
    target: str,
) -> None:
    sim, clock = manual_sim
    record("triggerer_restart", cases=1, **{f"cases_{kind}": 1})
    make, trigger, session_id = _deferred_task(sim, kind, timeout=60)
    stored = _stored(trigger, artefacts)
    first = CloudOSSessionTrigger(**stored)
    gets_before = sim.counters.requests("get")
    stopped = run_on_a_triggerer(first, stop_when=lambda: sim.counters.requests("get") >= gets_before + 3)
    assert stopped == {"cancelled": True}
    status_when_moved = display_status(sim, session_id)
    assert status_when_moved != target, "the move must happen mid-wait"
    aborts_before = sim.counters.requests("abort")
    clock.advance(PAST_EVERY_PHASE)  # the session goes on while no triggerer watches it

    rebuilt = CloudOSSessionTrigger(**stored)  # on another triggerer, from the stored kwargs
    assert rebuilt.end_time == trigger.end_time
    assert rebuilt.started_at == trigger.started_at
    event = run_on_a_triggerer(rebuilt)["event"]
    driver.artefacts.add("event", event)

    assert event["status"] == "success"
    assert event["session_status"] == target
    assert event["session_id"] == session_id
    # Elapsed time counts from the original start, not from the move.
    assert event["elapsed"] >= time.time() - trigger.started_at - 1.0
    # Cancelling the first triggerer's run did not pause anything: only the wait's own stop did.
    assert sim.counters.requests("abort") == aborts_before
    result = make().execute_complete({"ti": FakeTI("task", 1, artefacts)}, event=event)
    if kind == "sensor":
        assert result["id"] == session_id
        assert result["status"] == target
    else:
        assert result == session_id
    record("triggerer_restart", cases_right=1)


def test_rebuilt_trigger_after_the_deadline_times_out_at_once_and_pauses(
    manual_sim: tuple[CloudOSSimulator, ManualClock], driver: TaskDriver, artefacts: Artefacts
) -> None:
    sim, _ = manual_sim
    record("triggerer_restart", cases=1, cases_past_deadline=1)
    sim_timings = StateTimings(scheduled=0.0, setup=30.0, aborting=0.05)
    _, trigger, session_id = _deferred_task(sim, "create", timeout=0.5)
    sim.set_timings(sim_timings)
    stored = _stored(trigger, artefacts)
    gets_before = sim.counters.requests("get")
    run_on_a_triggerer(
        CloudOSSessionTrigger(**stored), stop_when=lambda: sim.counters.requests("get") > gets_before
    )
    # The triggerer is down until after the deadline; the rebuilt trigger must not restart the clock.
    while time.time() <= trigger.end_time:
        time.sleep(0.02)
    gets_before = sim.counters.requests("get")
    rebuilt = CloudOSSessionTrigger(**stored)
    event = run_on_a_triggerer(rebuilt)["event"]
    driver.artefacts.add("event", event)

    assert event["status"] == "timeout"
    assert event["stopped"] is True
    assert sim.counters.requests("get") - gets_before == 1, "one look, then the deadline applies"
    assert display_status(sim, session_id) in ("stopping", "paused")
    record("triggerer_restart", cases_right=1)
