"""Kill and timeout in every waiting phase, sync and deferred: no session left running.

A session bills while it is scheduled, provisioning or running, so a task that started (create)
or resumed (resume) one and then goes away must pause it. Each case parks the session in one
phase, waits until the task is waiting on it, and then ends the task the way Airflow would:

``sync_kill``
    Airflow 3's worker on SIGTERM calls ``on_kill()`` from the signal handler and lets the task
    run on until SIGKILL follows; modelled with two signals to the main thread.
``sync_execution_timeout``
    ``execution_timeout`` raises ``AirflowTaskTimeout`` inside ``execute`` (SIGALRM), then
    Airflow calls ``on_kill()``.
``sync_wait_timeout``
    the operator's own ``timeout`` runs out while it polls.
``deferred_kill``
    a user kills the deferred task: the triggerer calls the trigger's ``on_kill()`` and cancels it.
``deferred_timeout``
    the trigger's own deadline (``end_time``) passes.

"running" is the phase where the session already runs but the task has not noticed yet (it polls
every 30 s); a timeout cannot end a wait there (the wait's last poll sees it running), so only the
kills and ``execution_timeout`` are run in it.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowException, AirflowTaskTimeout, TaskDeferred
from reliability_helpers import (
    Artefacts,
    FakeTI,
    MemoryStateStore,
    TaskDriver,
    async_wait_until,
    display_status,
    first_event,
    record,
    running_sessions,
    wait_until,
)

from airflow_provider_cloudos.hooks.cloudos import CloudOSHook
from airflow_provider_cloudos.operators.sessions import (
    CloudOSCreateSessionOperator,
    CloudOSResumeSessionOperator,
)
from airflow_provider_cloudos.testing import CloudOSSimulator, StateTimings

LONG = 30.0
FAST = 0.05
PHASE_TIMINGS = {
    "scheduled": StateTimings(scheduled=LONG, setup=FAST, initialising=FAST, aborting=FAST),
    "setup": StateTimings(scheduled=0.0, setup=LONG, initialising=FAST, aborting=FAST),
    "initialising": StateTimings(scheduled=0.0, setup=0.0, initialising=LONG, aborting=FAST),
    "running": StateTimings(scheduled=FAST, setup=FAST, initialising=FAST, aborting=FAST),
    "resume": StateTimings(aborting=FAST, resume_initialising=LONG),
}
#: The status the session is in while the task waits, per phase.
PHASE_STATUS = {
    "scheduled": "scheduled",
    "setup": "setup",
    "initialising": "initialising",
    "running": "running",
    "resume": "initialising",
}
MODES_BY_PHASE = {
    "scheduled": (
        "sync_kill",
        "sync_execution_timeout",
        "sync_wait_timeout",
        "deferred_kill",
        "deferred_timeout",
    ),
    "setup": (
        "sync_kill",
        "sync_execution_timeout",
        "sync_wait_timeout",
        "deferred_kill",
        "deferred_timeout",
    ),
    "initialising": (
        "sync_kill",
        "sync_execution_timeout",
        "sync_wait_timeout",
        "deferred_kill",
        "deferred_timeout",
    ),
    "running": ("sync_kill", "sync_execution_timeout", "deferred_kill"),
    "resume": (
        "sync_kill",
        "sync_execution_timeout",
        "sync_wait_timeout",
        "deferred_kill",
        "deferred_timeout",
    ),
}
CASES = [(phase, mode) for phase, modes in MODES_BY_PHASE.items() for mode in modes]


class _ProcessKilled(BaseException):
    """SIGKILL, as far as Python code can tell: the try is over."""


@dataclass
class Scenario:
    sim: CloudOSSimulator
    phase: str
    deferrable: bool
    timeout: float
    session_id: str | None = None

    def make_operator(self) -> Any:
        # In the "running" phase the task polls rarely, so the session runs before it notices.
        poll = 30.0 if self.phase == "running" else 0.2
        common: dict[str, Any] = {
            "deferrable": self.deferrable,
            "poll_interval": poll,
            "timeout": self.timeout,
        }
        operator: Any
        if self.phase == "resume":
            assert self.session_id is not None
            operator = CloudOSResumeSessionOperator(task_id="resume", session_id=self.session_id, **common)
        else:
            operator = CloudOSCreateSessionOperator(
                task_id="create", name=f"kill-{self.phase}", project_id=self.sim.project_id, **common
            )
        self.operator = operator
        return operator

    def current_session(self) -> str | None:
        if self.session_id is None:
            found = [s["_id"] for s in self.sim.sessions() if s.get("name") == f"kill-{self.phase}"]
            return found[0] if found else None
        return self.session_id

    def task_is_waiting(self, gets_before: int | None) -> bool:
        """The session sits in the phase and (when ``gets_before`` is given) the task is in its wait.

        The wait starts from the create or resume answer (its first poll comes one interval
        later), so "in its wait" is: that answer has come back and the task has taken the session
        as its own.
        """
        session_id = self.current_session()
        start = "resume" if self.phase == "resume" else "create"
        return (
            session_id is not None
            and display_status(self.sim, session_id) == PHASE_STATUS[self.phase]
            and (gets_before is None or (self.sim.counters.requests(start) > 0 and self.owned()))
        )

    def owned(self) -> bool:
        operator = getattr(self, "operator", None)
        return operator is None or getattr(operator, "_owned_session_id", None) is not None


def _prepare(sim: CloudOSSimulator, phase: str, deferrable: bool, timeout: float) -> Scenario:
    scenario = Scenario(sim, phase, deferrable, timeout)
    if phase == "resume":
        scenario.session_id = sim.add_session(name="kill-resume", status="aborted")["_id"]
    sim.set_timings(PHASE_TIMINGS[phase])
    return scenario


def _run_in_main_thread_with_signals(
    run: Callable[[], Any],
    ready: Callable[[], bool],
    first: Callable[[], None],
    then_kill: bool,
) -> BaseException | None:
    """Run ``run`` here; when ``ready``, a watcher thread signals us: ``first`` runs in the handler.

    With ``then_kill``, a second signal raises :class:`_ProcessKilled` (SIGKILL) once ``first``
    has returned, unless ``run`` already ended.
    """
    assert threading.current_thread() is threading.main_thread()
    main = threading.main_thread().ident
    assert main is not None
    handled = threading.Event()
    armed = {"kill": True}
    failures: list[BaseException] = []

    def on_first(signum: int, frame: Any) -> None:
        try:
            first()
        finally:
            handled.set()

    def on_kill(signum: int, frame: Any) -> None:
        if armed["kill"]:
            raise _ProcessKilled()

    def watcher() -> None:
        try:
            wait_until(ready, limit=20)
        except AssertionError as error:
            failures.append(error)
            return
        signal.pthread_kill(main, signal.SIGUSR1)
        if then_kill and handled.wait(20):
            signal.pthread_kill(main, signal.SIGUSR2)

    previous = signal.signal(signal.SIGUSR1, on_first), signal.signal(signal.SIGUSR2, on_kill)
    thread = threading.Thread(target=watcher, daemon=True)
    thread.start()
    ended: BaseException | None = None
    try:
        try:
            run()
        except BaseException as error:
            ended = error
        armed["kill"] = False
        thread.join(30)
    finally:
        signal.signal(signal.SIGUSR1, previous[0])
        signal.signal(signal.SIGUSR2, previous[1])
    if failures:
        raise failures[0]
    return ended


def _sync_kill(scenario: Scenario, artefacts: Artefacts) -> dict[str, Any]:
    operator = scenario.make_operator()
    context = {"ti": FakeTI(operator.task_id, 1, artefacts)}
    seen: dict[str, Any] = {}
    gets_before = scenario.sim.counters.requests("get")

    def on_sigterm() -> None:  # what Airflow 3's task runner does on SIGTERM
        operator.on_kill()
        session_id = scenario.current_session()
        seen["after_on_kill"] = display_status(scenario.sim, session_id) if session_id else None

    ended = _run_in_main_thread_with_signals(
        lambda: operator.execute(context),
        lambda: scenario.task_is_waiting(gets_before),
        on_sigterm,
        then_kill=True,
    )
    if ended is not None:
        artefacts.add("exception", ended)
    return {"after_on_kill": seen.get("after_on_kill"), "ended": ended}


def _sync_execution_timeout(scenario: Scenario, artefacts: Artefacts) -> dict[str, Any]:
    operator = scenario.make_operator()
    context = {"ti": FakeTI(operator.task_id, 1, artefacts)}
    gets_before = scenario.sim.counters.requests("get")

    def on_sigalrm() -> None:
        raise AirflowTaskTimeout("Timeout, PID: harness")

    ended = _run_in_main_thread_with_signals(
        lambda: operator.execute(context),
        lambda: scenario.task_is_waiting(gets_before),
        on_sigalrm,
        then_kill=False,
    )
    assert isinstance(ended, AirflowTaskTimeout), ended
    operator.on_kill()  # Airflow calls it after AirflowTaskTimeout
    artefacts.add("exception", ended)
    return {"ended": ended}


def _sync_wait_timeout(scenario: Scenario, driver: TaskDriver) -> dict[str, Any]:
    outcome = driver.run_task("task", scenario.make_operator)
    assert isinstance(outcome.failed, AirflowException), outcome.errors
    assert "paused to stop its costs" in str(outcome.failed)
    return {"ended": outcome.failed}


def _deferred(scenario: Scenario, driver: TaskDriver, artefacts: Artefacts, *, kill: bool) -> dict[str, Any]:
    operator = scenario.make_operator()
    context = {"ti": FakeTI(operator.task_id, 1, artefacts)}
    with pytest.raises(TaskDeferred) as deferred:
        operator.execute(context)
    trigger = driver.rebuild_trigger(deferred.value.trigger)
    assert trigger.stop_on_kill
    assert trigger.stop_on_timeout
    if not kill:
        event = driver.run_trigger(trigger)
        assert event["status"] == "timeout", event
        assert event["stopped"] is True, event
        with pytest.raises(AirflowException, match="paused to stop its costs") as failed:
            scenario.make_operator().execute_complete(context, event=event)
        artefacts.add("exception", failed.value)
        return {"event": event}
    seen: dict[str, Any] = {}

    async def run_then_kill() -> None:
        waiting = asyncio.Event()
        wait = trigger._wait

        async def entered_wait(*args: Any, **kwargs: Any) -> Any:
            waiting.set()
            return await wait(*args, **kwargs)

        trigger._wait = entered_wait  # type: ignore[method-assign]
        running = asyncio.create_task(first_event(trigger))
        # The trigger's first poll waits one interval (the task has just looked; 30 s in the
        # "running" phase), so "waiting" is: the run has entered its wait (an event, not a fixed
        # sleep) and the session is in the phase.
        await asyncio.wait_for(waiting.wait(), timeout=20)
        assert not running.done()
        await async_wait_until(lambda: scenario.task_is_waiting(None), limit=20)
        await trigger.on_kill()  # Airflow 3.3: a user marked the deferred task failed
        session_id = scenario.current_session()
        seen["after_on_kill"] = display_status(scenario.sim, session_id) if session_id else None
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running

    asyncio.run(run_then_kill())
    return seen


@pytest.mark.parametrize(("phase", "mode"), CASES, ids=[f"{phase}-{mode}" for phase, mode in CASES])
def test_no_session_left_running_after_kill_or_timeout(
    cloudos_conn: CloudOSSimulator, driver: TaskDriver, artefacts: Artefacts, phase: str, mode: str
) -> None:
    sim = cloudos_conn
    deferrable = mode.startswith("deferred")
    timeout = 0.4 if mode.endswith("wait_timeout") or mode == "deferred_timeout" else 60.0
    scenario = _prepare(sim, phase, deferrable, timeout)
    # Figures are recorded whatever happens below, so a failing case shows in the report.
    record("kill_and_timeout", cases=1, **{f"cases_{mode}": 1, f"cases_phase_{phase}": 1})
    try:
        if mode == "sync_kill":
            seen = _sync_kill(scenario, artefacts)
        elif mode == "sync_execution_timeout":
            seen = _sync_execution_timeout(scenario, artefacts)
        elif mode == "sync_wait_timeout":
            seen = _sync_wait_timeout(scenario, driver)
        else:
            seen = _deferred(scenario, driver, artefacts, kill=mode == "deferred_kill")

        session_id = scenario.current_session()
        assert session_id is not None, "the task never started a session"
        if mode.endswith("kill"):
            # on_kill alone (before any SIGKILL or cancellation) already asked for the pause.
            assert seen["after_on_kill"] in ("stopping", "paused"), seen
        assert sim.counters.requests("abort") >= 1
        wait_until(lambda: display_status(sim, session_id) == "paused", limit=10)
    finally:
        record("kill_and_timeout", sessions_leaked=len(running_sessions(sim)))
    assert running_sessions(sim) == []


@pytest.mark.parametrize("with_state_store", [True, False], ids=["state-store", "name-only"])
def test_a_retry_after_a_timed_out_wait_carries_on_with_the_same_session(
    cloudos_conn: CloudOSSimulator, driver: TaskDriver, with_state_store: bool
) -> None:
    """Try 1 times out and pauses its session; Airflow retries; try 2 must not create another.

    With Airflow 3.3's task state store the id is remembered; without it (older Airflow), the
    session is found by name although it is paused now.
    """
    sim = cloudos_conn
    sim.set_timings(
        StateTimings(scheduled=0.0, setup=3.0, initialising=FAST, aborting=FAST, resume_initialising=FAST)
    )
    outcome = driver.run_task(
        "create",
        lambda: CloudOSCreateSessionOperator(
            task_id="create", name="retried", project_id=sim.project_id, poll_interval=FAST, timeout=1
        ),
        max_tries=2,
        store=MemoryStateStore() if with_state_store else None,
    )
    sessions = [s for s in sim.sessions() if s.get("name") == "retried"]
    record("kill_and_timeout", retry_after_timeout_cases=1, sessions_created_twice=len(sessions) - 1)
    assert outcome.tries == 2
    assert "paused to stop its costs" in outcome.errors[0]
    assert [s["_id"] for s in sessions] == [outcome.result]
    assert sim.counters.requests("create") == 1


@pytest.mark.parametrize("action", ["create", "resume"])
def test_a_timeout_while_the_start_request_is_in_flight_leaves_nothing_running(
    cloudos_conn: CloudOSSimulator, artefacts: Artefacts, monkeypatch: pytest.MonkeyPatch, action: str
) -> None:
    """``execution_timeout`` fires after CloudOS started the session, before the answer came back."""
    sim = cloudos_conn
    sim.set_timings(PHASE_TIMINGS["resume" if action == "resume" else "setup"])
    scenario = Scenario(sim, "resume" if action == "resume" else "setup", deferrable=False, timeout=60)
    if action == "resume":
        scenario.session_id = sim.add_session(name="kill-resume", status="aborted")["_id"]
    method = "resume_session" if action == "resume" else "create_session"
    original = getattr(CloudOSHook, method)

    def answered_too_late(hook: CloudOSHook, *args: Any, **kwargs: Any) -> Any:
        original(hook, *args, **kwargs)  # CloudOS has started (or resumed) the session...
        raise AirflowTaskTimeout("Timeout, PID: harness")  # ...and the task's time ran out.

    monkeypatch.setattr(CloudOSHook, method, answered_too_late)
    operator = scenario.make_operator()
    record("kill_and_timeout", in_flight_cases=1)
    try:
        with pytest.raises(AirflowTaskTimeout):
            operator.execute({"ti": FakeTI(operator.task_id, 1, artefacts)})
        operator.on_kill()  # as Airflow does after AirflowTaskTimeout
    finally:
        record("kill_and_timeout", in_flight_sessions_leaked=len(running_sessions(sim)))
    assert running_sessions(sim) == []
