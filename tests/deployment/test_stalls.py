"""Stalled, not dead: a Celery worker and a triggerer frozen (``SIGSTOP``) and continued (``SIGCONT``).

A frozen process keeps its sockets, its database rows and its memory; when it continues it does
what it was about to do, however stale. On the soak's deployment (``conftest.py``: PostgreSQL,
Redis, two Celery workers, two triggerers) and its DAGs:

1. a worker is frozen while its create task waits on the project lookup (the simulator holds
   that answer), past Airflow's task heartbeat timeout, so the scheduler fails the try and the
   retry creates the session on the other worker; then the frozen worker continues. CloudOS
   must see one create for the run, the retry's session must never be paused by the stale try,
   no session paused twice, and the run must succeed;
2. a triggerer is frozen holding create-and-wait waits, past the health-check threshold, so the
   other adopts them (it polls each wait's session after the freeze); then it continues while
   the waits run on the other. No session may be paused while its task still waits on it, none
   twice, every wait must end with its task succeeding once its session runs, on the try it had.

The figures (stall lengths, seconds to the retry, sessions) are written to
``bench/results/deployment_stalls.json`` by a run whose every test passed, with
``CLOUDOS_SOAK_RESULTS=1`` (``make soak``).
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

import pytest
from airflow_deployment import (
    CREATE_AND_WAIT,
    LIFECYCLE,
    TASK_HEARTBEAT_TIMEOUT,
    TRIGGERER_HEALTH_CHECK_THRESHOLD,
    TRIGGERERS,
    WORKERS,
    AirflowDeployment,
    ClockTicker,
    requests_about,
    session_by_name,
    session_name,
    wait_until_polled,
)
from airflow_processes import wait_for
from soak_checks import check_tries_unchanged, parse_api_time

from airflow_provider_cloudos.core.status import LIVE_STATUSES, STOPPING, map_status
from airflow_provider_cloudos.testing import CloudOSSimulator, ManualClock

RESULT_NAME = "deployment_stalls"
#: Create-and-wait runs deferred before a triggerer is frozen. Two at most: a triggerer with more
#: waits of one connection reads their sessions together in list pages (``client/shared_reads.py``),
#: which the simulator does not count per session, and adoption is seen in per-session reads.
STALLED_WAITS = 2
#: The soak DAGs' poll interval (dags/cloudos_soak.py).
POLL_SECONDS = 2
FINISHED_RUN = {"success", "failed"}
#: Generous: the machine may be shared with other deployments.
RUN_TIMEOUT = 420.0


@dataclass
class StallFigures:
    """What the stall tests measured; written as JSON for BENCHMARKS.md when asked for."""

    scale: str
    worker_frozen_seconds: float | None = None
    worker_retry_seconds: float | None = None
    worker_stale_requests_after_thaw: dict[str, int] = field(default_factory=dict)
    worker_run_sessions: int = 0
    worker_run_creates: int = 0
    triggerer_frozen_seconds: float | None = None
    triggerer_adoption_seconds: float | None = None
    triggerer_waits_adopted: int = 0
    triggerer_waits: int = 0
    triggerer_restarted: list[str] = field(default_factory=list)
    sessions_created: int = 0
    extra_sessions: int = 0
    pauses_per_session_max: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


@pytest.fixture(scope="module")
def stall_figures(request: pytest.FixtureRequest, scale_name: str) -> Iterator[StallFigures]:
    """Written (with ``CLOUDOS_SOAK_RESULTS=1``) only when no test failed and both stalls were
    measured: a failed run leaves the file as it was."""
    figures = StallFigures(scale=scale_name)
    yield figures
    complete = figures.worker_frozen_seconds is not None and figures.triggerer_frozen_seconds is not None
    if os.environ.get("CLOUDOS_SOAK_RESULTS") != "1":
        return
    if request.session.testsfailed == 0 and complete:
        from bench.common import write_result  # the repository root is on sys.path here

        command = "make soak" if scale_name == "full" else "make deployment-test"
        write_result(RESULT_NAME, asdict(figures), command=command)
        print(f"\nfigures written to bench/results/{RESULT_NAME}.json")
    else:
        print(f"\nstall figures NOT written: {request.session.testsfailed} failed, complete={complete}")


@pytest.fixture(scope="module")
def ticker(clock: ManualClock) -> Iterator[ClockTicker]:
    running = ClockTicker(clock)
    yield running
    running.close()


# -- evidence from the simulator --------------------------------------------------------------------


def _sessions_named(simulator: CloudOSSimulator, name: str) -> list[dict[str, Any]]:
    return session_by_name(simulator).get(name, [])


def _creates_named(simulator: CloudOSSimulator, name: str) -> int:
    """Create requests CloudOS acted on for this session name."""
    return sum(1 for p in simulator.created_payloads if p["interactiveSessionConfiguration"]["name"] == name)


def _pauses(simulator: CloudOSSimulator) -> Counter[str]:
    """Pause requests CloudOS received, per session."""
    return Counter(session_id for session_id, _, _ in simulator.abort_requests)


def _run_state(airflow: AirflowDeployment, dag_id: str, run_id: str) -> str | None:
    return next((r["state"] for r in airflow.runs(dag_id) if r["dag_run_id"] == run_id), None)


def _runs_finished(airflow: AirflowDeployment, dag_id: str, run_ids: list[str]) -> dict[str, str] | None:
    states = {r["dag_run_id"]: r["state"] for r in airflow.runs(dag_id) if r["dag_run_id"] in run_ids}
    return states if len(states) == len(run_ids) and set(states.values()) <= FINISHED_RUN else None


def _no_session_stopping(simulator: CloudOSSimulator) -> bool | None:
    return None if any(map_status(s["status"]) == STOPPING for s in simulator.sessions()) else True


def _paused_once_by_its_teardown(
    airflow: AirflowDeployment, simulator: CloudOSSimulator, dag_id: str, run_id: str, session_id: str
) -> None:
    """The run's session was paused exactly once, by its ``stop`` teardown (no earlier pause)."""
    pauses = simulator.counters.request_times("abort", session_id)
    assert len(pauses) == 1, f"{run_id}: session {session_id} paused {len(pauses)} times"
    stop = airflow.task_instance(dag_id, run_id, "stop")
    stop_started = parse_api_time(stop.get("start_date"))
    assert stop_started is not None, stop
    assert pauses[0] >= stop_started, f"{run_id}: session {session_id} paused before its teardown ran"
    assert map_status(simulator.session(session_id)["status"]) not in LIVE_STATUSES


def _begin(airflow: AirflowDeployment, simulator: CloudOSSimulator, dag_id: str) -> float:
    """No injected faults (a stall is the one fault here), the DAG on; returns the start (monotonic)."""
    simulator.faults.clear()
    airflow.unpause(dag_id)
    return time.monotonic()


# -- 1. a worker frozen while its create waits on the project lookup ----------------------------


def test_frozen_worker_leaves_one_session_and_never_pauses_the_retrys(
    deployment, simulator, ticker, stall_figures
):
    airflow: AirflowDeployment = deployment
    ticker.run()
    started = _begin(airflow, simulator, LIFECYCLE)
    run_id = "stalled-worker"
    name = session_name(LIFECYCLE, run_id)
    simulator.faults.hold_answers("projects", count=1)
    frozen: str | None = None
    try:
        airflow.trigger(LIFECYCLE, run_id=run_id)
        wait_for("the create's project lookup to be held", lambda: simulator.faults.held or None, 240, 0.2)
        first = airflow.task_instance(LIFECYCLE, run_id, "create")
        frozen = airflow.component_holding(first["pid"])
        assert frozen in WORKERS, f"the create runs under {frozen!r}, not a Celery worker"
        frozen_at = airflow.freeze(frozen)
        # The lookup is answered into the frozen process's socket: it reads it when it continues.
        simulator.faults.release_held()
        assert _creates_named(simulator, name) == 0

        def retried_and_created() -> dict[str, Any] | None:
            airflow.check_alive()
            ti = airflow.task_instance(LIFECYCLE, run_id, "create")
            done = ti["try_number"] > first["try_number"] and ti["state"] == "success"
            return ti if done and _sessions_named(simulator, name) else None

        waited = TASK_HEARTBEAT_TIMEOUT + RUN_TIMEOUT
        retry = wait_for(
            "the retry to create the session on the other worker", retried_and_created, waited, 1
        )
        stall_figures.worker_retry_seconds = round(time.time() - frozen_at, 1)
        assert airflow.component_holding(retry["pid"]) in (None, *WORKERS)
        (session,) = _sessions_named(simulator, name)
        session_id = str(session["_id"])
        before = {endpoint: simulator.counters.requests(endpoint) for endpoint in ("list", "create", "get")}
        thawed_at = airflow.thaw(frozen)
        frozen = None
        stall_figures.worker_frozen_seconds = round(thawed_at - frozen_at, 1)

        states = wait_for(
            "the run to finish", lambda: _runs_finished(airflow, LIFECYCLE, [run_id]), RUN_TIMEOUT, 2
        )
        wait_for("pauses to complete", lambda: _no_session_stopping(simulator), 60)
        time.sleep(2 * POLL_SECONDS)  # time for a late stale request to show itself
    finally:
        if frozen is not None:
            airflow.thaw(frozen)
        simulator.faults.clear()
        airflow.pause(LIFECYCLE)

    stall_figures.worker_stale_requests_after_thaw = {
        endpoint: simulator.counters.requests(endpoint) - count for endpoint, count in before.items()
    }
    sessions = _sessions_named(simulator, name)
    stall_figures.worker_run_sessions = len(sessions)
    stall_figures.worker_run_creates = _creates_named(simulator, name)
    stall_figures.extra_sessions += max(0, len(sessions) - 1)
    stall_figures.seconds["frozen_worker"] = round(time.monotonic() - started, 1)
    print(f"\nfrozen worker: {asdict(stall_figures)}")
    # One create for the run, from the retry: the stale try sent none once it was no longer current.
    assert stall_figures.worker_run_creates == 1, sessions
    assert [str(s["_id"]) for s in sessions] == [session_id]
    # The run used the session while running (its use task reads it) and paused it once, at its
    # teardown: the stale try paused nothing.
    assert states == {run_id: "success"}
    _paused_once_by_its_teardown(airflow, simulator, LIFECYCLE, run_id, session_id)
    assert max(_pauses(simulator).values()) == 1, _pauses(simulator)


# -- 2. a triggerer frozen while it holds waits ------------------------------------------------


def test_frozen_triggerer_waits_adopted_and_nothing_paused_by_the_stale_one(
    deployment, simulator, ticker, stall_figures
):
    airflow: AirflowDeployment = deployment
    ticker.hold()  # the sessions stay "scheduled": every wait stays deferred through the stall
    started = _begin(airflow, simulator, CREATE_AND_WAIT)
    run_ids = [f"stalled-triggerer-{n}" for n in range(STALLED_WAITS)]
    frozen: str | None = None
    try:
        for run_id in run_ids:
            airflow.trigger(CREATE_AND_WAIT, run_id=run_id)

        def deferred_and_polled() -> list[Any] | None:
            rows = [t for t in airflow.triggers() if t.run_id in run_ids and t.triggerer_id is not None]
            polled = all(requests_about(simulator, str(t.kwargs["session_id"])) for t in rows)
            return rows if len(rows) == len(run_ids) and polled else None

        rows = wait_for("every wait to be deferred and polled", deferred_and_polled, RUN_TIMEOUT, 1)
        holding = Counter(t.triggerer_id for t in rows)
        frozen = airflow.triggerer_named(holding.most_common(1)[0][0])
        assert frozen in TRIGGERERS
        victim_jobs = set(airflow.triggerer_jobs[frozen])
        moved = [t for t in rows if t.triggerer_id in victim_jobs]
        sessions = {str(t.kwargs["session_id"]) for t in moved}
        tries = {
            t.run_id: int(airflow.task_instance(CREATE_AND_WAIT, t.run_id, "create")["try_number"])
            for t in rows
        }
        frozen_at = airflow.freeze(frozen)

        what = f"the other triggerer to poll {frozen}'s waits' sessions"
        seconds = wait_until_polled(simulator, sessions, frozen_at, what)
        thawed_at = airflow.thaw(frozen)
        frozen = None
        stall_figures.triggerer_frozen_seconds = round(thawed_at - frozen_at, 1)
        stall_figures.triggerer_adoption_seconds = max(seconds.values())
        stall_figures.triggerer_waits_adopted = len(moved)
        stall_figures.triggerer_waits = len(rows)
        # The continued triggerer finds its waits gone: long enough for it to act on that (a
        # heartbeat, a few polls) while every session is still waited on.
        time.sleep(TRIGGERER_HEALTH_CHECK_THRESHOLD)
        stall_figures.triggerer_restarted = airflow.restart_exited()
        ids = {str(t.kwargs["session_id"]) for t in rows}
        early = {s: n for s, n in _pauses(simulator).items() if s in ids}
        assert not early, f"sessions paused while their tasks still waited on them: {early}"

        ticker.run()
        states = wait_for(
            "the runs to finish", lambda: _runs_finished(airflow, CREATE_AND_WAIT, run_ids), RUN_TIMEOUT, 2
        )
        wait_for("pauses to complete", lambda: _no_session_stopping(simulator), 60)
    finally:
        if frozen is not None:
            airflow.thaw(frozen)
        airflow.pause(CREATE_AND_WAIT)

    stall_figures.seconds["frozen_triggerer"] = round(time.monotonic() - started, 1)
    print(f"\nfrozen triggerer: {asdict(stall_figures)}")
    assert states == dict.fromkeys(run_ids, "success")
    check_tries_unchanged(
        tries, {r: int(airflow.task_instance(CREATE_AND_WAIT, r, "create")["try_number"]) for r in run_ids}
    )
    names = session_by_name(simulator)
    per_run = {r: names.get(session_name(CREATE_AND_WAIT, r), []) for r in run_ids}
    stall_figures.extra_sessions += sum(max(0, len(found) - 1) for found in per_run.values())
    assert {r: len(found) for r, found in per_run.items()} == dict.fromkeys(run_ids, 1)
    pauses = _pauses(simulator)
    for run_id, (session,) in per_run.items():
        # Paused once, by the run's teardown, after its wait ended with the session running.
        _paused_once_by_its_teardown(airflow, simulator, CREATE_AND_WAIT, run_id, str(session["_id"]))
    stall_figures.sessions_created = len(simulator.sessions())
    stall_figures.pauses_per_session_max = max(pauses.values())
    assert stall_figures.pauses_per_session_max == 1, pauses
