"""The provider's promises on a production-shaped Airflow, with real crashes.

PostgreSQL as the metadata database, Redis as the Celery broker, two Celery workers, the
api-server, the scheduler, the dag-processor and two triggerers, all on 127.0.0.1; the CloudOS
simulator in this process injects about 10% failures (503, 429 with Retry-After, dropped
connections) on every endpoint. Concurrent runs of the lifecycle DAG (create -> sensor -> use ->
stop as teardown, all deferrable, retries=2) and of a create-and-wait DAG go through:

1. ``kill -9`` of the Celery worker running a create whose request CloudOS has acted on but not
   yet answered (the simulator holds the answer): the retry, wherever it lands, must adopt the
   session the killed try made;
2. a user marking deferred create tasks failed through the REST API: the triggerer holding each
   trigger pauses that session, and no other session is touched;
3. ``kill -9`` of the triggerer holding most waits: the other adopts every one, which means it
   polls each wait's session after the kill (the simulator's request times), and no adopted
   wait's task is retried;
4. ``kill -9`` of the triggerer holding a wait whose deadline then passes while it is down: the
   adopting triggerer pauses the session that wait's task started within one poll interval plus
   the health-check threshold of the deadline, and the task ends soon after (its end date);
5. ``kill -9`` of the scheduler, then PostgreSQL and Redis restarted, while the runs finish.

Then: every run ended as it should, one session per run and none left running, every kind of fault
was injected, and requests stay under a ceiling per run and per session.

Simulated sessions change state only while the test lets the simulator's clock run, so every wait
is deferred at the moments the crashes need, whatever the machine's speed. The number of runs
comes from ``CLOUDOS_SOAK_SCALE`` (``ci``: a dozen runs; ``full``: 46, ``make soak``); with
``CLOUDOS_SOAK_RESULTS=1``, the figures of a run whose every test passed are written to
``bench/results/deployment_soak.json`` (replacing the file, with this run's date) for ``BENCHMARKS.md``.
The verdicts are in ``soak_checks.py``; ``test_soak_checks.py`` shows each one failing.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pytest
from airflow_deployment import (
    API_KEY,
    CREATE_AND_WAIT,
    LIFECYCLE,
    TRIGGERER_HEALTH_CHECK_THRESHOLD,
    TRIGGERERS,
    WORKER_CONCURRENCY,
    WORKERS,
    AirflowDeployment,
    ClockTicker,
    TriggerRow,
    session_by_name,
    session_name,
    wait_until_polled,
)
from airflow_processes import process_tree, wait_for
from soak_checks import (
    check_deadline_seen,
    check_faults_injected,
    check_request_ceiling,
    check_tries_unchanged,
    parse_api_time,
    pss_kib,
    sampled_mib,
)

from airflow_provider_cloudos.core.status import LIVE_STATUSES, PAUSED, STOPPING, map_status
from airflow_provider_cloudos.testing import CloudOSSimulator
from airflow_provider_cloudos.testing.faults import ENDPOINTS

#: A deadline wait's timeout: long enough for the other waits to settle, short enough to pass soon.
DEADLINE_TIMEOUT = 45
#: How long before the deadline its triggerer is killed: well under the 10 s health-check
#: threshold, so the deadline passes while no triggerer runs the wait.
KILL_BEFORE_DEADLINE = 3.0
#: The soak DAGs' poll interval (dags/cloudos_soak.py).
POLL_SECONDS = 2
FINISHED_RUN = {"success", "failed"}
FINISHED_TASK = {"success", "failed", "skipped", "upstream_failed"}
BUSY_TASK = {"running", "queued", "scheduled", "up_for_retry", "restarting", "up_for_reschedule"}
SETTLE_TIMEOUT = 420.0
RESULT_NAME = "deployment_soak"
FINISH_TIMEOUT = 600.0
#: How long a timed-out wait's event may take to fail its task on a worker after the pause.
RESUME_SECONDS = 60.0
#: Requests per run at most, by endpoint: one create each (a few retried after injected
#: failures or a worker kill), a pause or two (the teardown's, a kill's).
REQUESTS_PER_RUN = {"create": 2.0, "abort": 3.0}
#: A wait polls once per poll interval; with injected failures retried, at most this many times that.
POLL_CEILING = 1.5


@dataclass(frozen=True)
class Scale:
    lifecycle_runs: int
    held_creates: int
    marked_runs: int
    deadline_runs: int


SCALES = {
    "ci": Scale(lifecycle_runs=10, held_creates=2, marked_runs=1, deadline_runs=1),
    "full": Scale(lifecycle_runs=40, held_creates=4, marked_runs=3, deadline_runs=3),
}


@dataclass
class Figures:
    """What the soak measured; written as JSON for BENCHMARKS.md when asked for."""

    scale: str
    runs: dict[str, int] = field(default_factory=dict)
    crashes: list[str] = field(default_factory=list)
    worker_kill_retry_seconds: float | None = None
    triggerer_adoption_seconds: float | None = None
    adopted_triggers: int = 0
    deadline_wait_adoption_seconds: float | None = None
    deadline_pause_late_seconds: float | None = None
    deadline_task_end_late_seconds: float | None = None
    restarts: dict[str, float] = field(default_factory=dict)
    components_restarted: list[str] = field(default_factory=list)
    peak_deferred_waits: int = 0
    worker_slots: int = len(WORKERS) * WORKER_CONCURRENCY
    triggers_per_triggerer: dict[str, int] = field(default_factory=dict)
    sessions_created: int = 0
    sessions_leaked: int = 0
    sessions_duplicated: int = 0
    requests: dict[str, int] = field(default_factory=dict)
    max_polls_of_one_session: int = 0
    injected: dict[str, int] = field(default_factory=dict)
    injected_failures: int = 0
    seconds: float = 0.0


class TriggerSampler:
    """Which triggerer held which trigger, sampled every second from the metadata database.

    A trigger log file is written only when a trigger logs something, and a wait that sees no
    change logs nothing, so "which triggerer carried waits" is read from the trigger table.
    """

    def __init__(self, airflow: AirflowDeployment) -> None:
        self._airflow = airflow
        self.seen: set[tuple[int, int]] = set()  # (trigger id, triggerer job id)
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="soak-triggers", daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._done.wait(1.0):
            try:
                held = self._airflow.trigger_holders()
            except Exception:  # noqa: S112 - a sample lost to a restart is retried a second later
                continue
            self.seen.update((trigger, job) for trigger, job in held.items() if job is not None)

    def per_triggerer(self) -> dict[str, int]:
        counts: Counter[str] = Counter()
        for _, job in self.seen:
            counts[self._airflow.triggerer_named(job) or f"job {job}"] += 1
        return dict(counts)

    def close(self) -> None:
        self._done.set()
        self._thread.join(10)


@pytest.fixture(scope="module")
def scale(scale_name: str) -> tuple[str, Scale]:
    return scale_name, SCALES[scale_name]


# -- reading the state of the runs ------------------------------------------------------------


def _run_states(airflow: AirflowDeployment) -> dict[str, str]:
    return {
        run["dag_run_id"]: run["state"]
        for dag_id in (LIFECYCLE, CREATE_AND_WAIT)
        for run in airflow.runs(dag_id)
    }


def _settled(airflow: AirflowDeployment, runs: dict[str, str]) -> int | None:
    """With the clock held: every unfinished run waits in a deferred task and nothing else moves.

    Returns the number of deferred waits, or None while some task is still busy or about to be.
    """
    airflow.check_alive()
    deferred = 0
    for run_id, dag_id in runs.items():
        states = {ti["task_id"]: ti["state"] for ti in airflow.task_instances(dag_id, run_id)}
        waiting = sum(state == "deferred" for state in states.values())
        if all(state in FINISHED_TASK for state in states.values()):
            continue
        if waiting == 0 or any(state in BUSY_TASK for state in states.values()):
            return None
        deferred += waiting
    return deferred


@dataclass(frozen=True)
class TriggererKill:
    killed_at: float
    #: When the last of its waits was adopted: the first request about its session after the kill.
    adopted_at: float
    moved: list[TriggerRow]
    #: Each moved wait's task ("dag run task") and its try number at the kill.
    tries: dict[str, int]


def _task_key(row: TriggerRow) -> str:
    return f"{row.dag_id} {row.run_id} {row.task_id}"


def _tries(airflow: AirflowDeployment, rows: list[TriggerRow]) -> dict[str, int]:
    return {
        _task_key(row): int(airflow.task_instance(row.dag_id, row.run_id, row.task_id)["try_number"])
        for row in rows
    }


def _kill_triggerer(airflow: AirflowDeployment, simulator: CloudOSSimulator, victim: str) -> TriggererKill:
    """``kill -9`` a triggerer, wait until the other has taken over all its waits, start it again.

    Taken over means polled: each wait's session got a request after the kill (the killed
    triggerer was gone, so the survivor sent it), before the victim is started again. The trigger
    table's ``triggerer_id`` is not evidence: a row can move without the wait running.
    """
    victim_jobs = set(airflow.triggerer_jobs[victim])
    before = [t for t in airflow.triggers() if t.triggerer_id in victim_jobs]
    assert before, f"{victim} held no waits"
    assert not any(API_KEY in json.dumps(t.kwargs) for t in before)  # never in trigger kwargs
    sessions = {str(t.kwargs["session_id"]) for t in before}
    killed_at = airflow.kill(victim)
    tries = _tries(airflow, before)  # after the kill, not to delay it: only a failed wait is retried

    what = f"the other triggerer to poll the sessions of {victim}'s waits"
    seconds = wait_until_polled(simulator, sessions, killed_at, what)
    airflow.start(victim)
    return TriggererKill(killed_at, killed_at + max(seconds.values()), before, tries)


def _tries_now(airflow: AirflowDeployment, tasks: dict[str, int]) -> list[tuple[str, int]]:
    """Each of these tasks ("dag run task") with its try number now."""
    found = []
    for key in tasks:
        dag_id, run_id, task_id = key.split(" ")
        found.append((key, int(airflow.task_instance(dag_id, run_id, task_id)["try_number"])))
    return found


def _all_held(airflow: AirflowDeployment) -> bool | None:
    """Whether every trigger is held by a triggerer."""
    return True if all(t.triggerer_id is not None for t in airflow.triggers()) else None


def _held(airflow: AirflowDeployment, run_ids: list[str]) -> bool | None:
    """Whether each of these runs' triggers is held by a triggerer."""
    held = {t.run_id for t in airflow.triggers() if t.triggerer_id is not None}
    return True if set(run_ids) <= held else None


def _creates_done(airflow: AirflowDeployment, runs: dict[str, str]) -> bool | None:
    states = [airflow.task_instance(dag_id, run_id, "create")["state"] for run_id, dag_id in runs.items()]
    return True if all(state in FINISHED_TASK for state in states) else None


def _unfinished_tasks(airflow: AirflowDeployment, runs: dict[str, str]) -> list[str]:
    """Each unfinished task of the soak's runs, with its state, try and worker: what a wait waited on."""
    lines = []
    for run_id, dag_id in runs.items():
        for ti in airflow.task_instances(dag_id, run_id):
            if ti["state"] not in FINISHED_TASK:
                lines.append(
                    f"{dag_id} {run_id} {ti['task_id']}: {ti['state']}, try {ti['try_number']},"
                    f" queued {ti.get('queued_when')}, started {ti.get('start_date')}"
                    f" on {ti.get('hostname')!r}"
                )
    return lines


def _failure_report(airflow: AirflowDeployment, runs: dict[str, str], error: AssertionError) -> str:
    """The failure, what was still unfinished, the components' last lines, and the failure again.

    CI shows the start and the end of a long failure: the message goes at both.
    """
    try:
        unfinished = "\n".join(_unfinished_tasks(airflow, runs)) or "(none)"
    except Exception as reading:  # the API server may be what failed
        unfinished = f"(not readable: {reading!r})"
    return (
        f"{error}\n--- unfinished tasks ---\n{unfinished}\n{airflow.diagnostics()}\n"
        f"--- the soak failed: {error}"
    )


def _job_of(trigger_log: Path) -> int:
    """The triggerer job id in a trigger log's name (``attempt=1.log.trigger.<job id>.log``)."""
    return int(trigger_log.name.rsplit(".", 2)[-2])


def _trigger_logs(airflow: AirflowDeployment, dag_id: str, run_id: str, task_id: str) -> dict[int, str]:
    """The trigger log of one task, by the job id of the triggerer that wrote it."""
    folder = airflow.home / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}" / f"task_id={task_id}"
    return {_job_of(path): path.read_text(errors="replace") for path in folder.glob("*.log.trigger.*")}


def _files_containing(root: Path, needle: bytes) -> list[str]:
    return [str(path) for path in root.rglob("*") if path.is_file() and needle in path.read_bytes()]


def _write_figures(scale_name: str, figures: dict[str, Any]) -> None:
    """Replace ``bench/results/deployment_soak.json`` (BENCHMARKS.md is rendered from it) with this run's
    figures alone, dated now: nothing of an older run is kept."""
    from bench.common import write_result  # the repository root is on sys.path here

    command = "make soak" if scale_name == "full" else "make deployment-test"
    write_result(RESULT_NAME, figures, command=command)


@pytest.fixture(scope="module")
def soak_figures(request: pytest.FixtureRequest, scale: tuple[str, Scale]) -> Iterator[dict[str, Any]]:
    """What the tests of this module measured, written (when ``CLOUDOS_SOAK_RESULTS=1``) only if no
    test has failed so far and both the soak and the memory figures are there: a failed run leaves
    the file as it was."""
    figures: dict[str, Any] = {}
    yield figures
    complete = "runs" in figures and "triggerer_pss_mib" in figures
    passed = request.session.testsfailed == 0 and complete
    if os.environ.get("CLOUDOS_SOAK_RESULTS") == "1":
        if passed:
            _write_figures(scale[0], figures)
            print(f"\nfigures written to bench/results/{RESULT_NAME}.json")
        else:
            print(f"\nfigures NOT written: {request.session.testsfailed} failed, complete={complete}")


# -- the soak -------------------------------------------------------------------------------------


def test_soak_with_crashes_keeps_every_promise(deployment, simulator, clock, scale, soak_figures):
    scale_name, size = scale
    airflow: AirflowDeployment = deployment
    figures = Figures(scale=scale_name)
    started = time.monotonic()
    ticker = ClockTicker(clock)  # held: sessions stay "scheduled" until the crashes are done
    sampler = TriggerSampler(airflow)
    runs: dict[str, str] = {}  # run id -> dag id
    for dag_id in (LIFECYCLE, CREATE_AND_WAIT):
        airflow.unpause(dag_id)
    simulator.faults.error_rate = 0.04
    simulator.faults.rate_limit_rate = 0.03
    simulator.faults.drop_rate = 0.03
    simulator.faults.retry_after = 1.0
    try:
        # 1. A worker dies while CloudOS has created sessions it has not yet answered for.
        simulator.faults.hold_answers("create", count=size.held_creates)
        for number in range(size.lifecycle_runs):
            run_id = f"life-{number:03d}"
            runs[airflow.trigger(LIFECYCLE, run_id=run_id)] = LIFECYCLE
        wait_for("held creates", lambda: simulator.faults.held == size.held_creates or None, 240)
        held_creates = simulator.faults.held
        held_runs = [p["interactiveSessionConfiguration"]["name"] for p in simulator.created_payloads]
        held_runs = [name.removeprefix(f"{LIFECYCLE}-") for name in held_runs[: size.held_creates]]
        holders = {
            run_id: airflow.component_holding(airflow.task_instance(LIFECYCLE, run_id, "create")["pid"])
            for run_id in held_runs
        }
        victim = next(name for name in holders.values() if name in WORKERS)
        killed_runs = [run_id for run_id, worker in holders.items() if worker == victim]
        killed_tries = {r: airflow.task_instance(LIFECYCLE, r, "create")["try_number"] for r in killed_runs}
        killed_at = airflow.kill(victim)
        figures.crashes.append(f"kill -9 {victim} with {len(killed_runs)} create(s) in flight")
        simulator.faults.release_held()  # the other worker's creates get their answers now
        airflow.start(victim)  # as a service manager would restart it

        def retried() -> bool | None:
            tries = {r: airflow.task_instance(LIFECYCLE, r, "create") for r in killed_runs}
            done = all(
                ti["try_number"] > killed_tries[r] and ti["state"] in ("success", "running")
                for r, ti in tries.items()
            )
            return True if done else None

        wait_for("the killed creates to be retried", retried, SETTLE_TIMEOUT, 2)
        figures.worker_kill_retry_seconds = round(time.time() - killed_at, 1)

        # The create-and-wait runs have no retries, so that what their trigger does is what the run
        # shows: from here on their creates (the only ones left) go without injected failures.
        wait_for("the lifecycle creates to finish", lambda: _creates_done(airflow, runs), SETTLE_TIMEOUT, 2)
        simulator.faults.only_endpoints = [name for name in ENDPOINTS if name != "create"]

        # 2. Deferred create-and-wait tasks marked failed by a user.
        marked = [f"marked-{n}" for n in range(size.marked_runs)]
        for run_id in marked:
            runs[airflow.trigger(CREATE_AND_WAIT, run_id=run_id)] = CREATE_AND_WAIT
        figures.peak_deferred_waits = wait_for(
            "every run to wait in a deferred task", lambda: _settled(airflow, runs), SETTLE_TIMEOUT, 2
        )
        assert figures.peak_deferred_waits > figures.worker_slots, "more waits than slots: none holds one"
        names = session_by_name(simulator)
        marked_sessions = {names[session_name(CREATE_AND_WAIT, r)][0]["_id"] for r in marked}
        # A trigger no triggerer has picked up yet has nobody to run its on_kill: a task marked
        # failed in that moment leaves its session to the user (docs/production.md).
        wait_for("the marked runs' waits to run on a triggerer", lambda: _held(airflow, marked), 120, 0.5)
        time.sleep(2 * POLL_SECONDS + 1)  # past the trigger's first poll
        aborts_before = len(simulator.abort_requests)
        for run_id in marked:
            airflow.mark_failed(CREATE_AND_WAIT, run_id, "create")

        def marked_paused() -> bool | None:
            statuses = {map_status(simulator.session(s)["status"]) for s in marked_sessions}
            return True if statuses <= {STOPPING, PAUSED} else None

        wait_for("the marked tasks' sessions to be paused", marked_paused, 120)
        time.sleep(5)  # time for a wrong pause to show itself, if one were coming
        touched = {session_id for session_id, _, _ in simulator.abort_requests[aborts_before:]}
        assert touched == marked_sessions, "a kill must pause its own session and nothing else"

        # 3. The triggerer holding most waits dies; the other polls every one of its waits' sessions.
        wait_for("every wait to be held by a triggerer", lambda: _all_held(airflow), 120, 0.5)
        holding = Counter(t.triggerer_id for t in airflow.triggers())
        busiest = airflow.triggerer_named(holding.most_common(1)[0][0])
        assert busiest is not None
        kill = _kill_triggerer(airflow, simulator, busiest)
        adopted_tries = dict(kill.tries)
        figures.crashes.append(f"kill -9 {busiest} holding {len(kill.moved)} of {holding.total()} waits")
        figures.triggerer_adoption_seconds = round(kill.adopted_at - kill.killed_at, 1)
        figures.adopted_triggers = len(kill.moved)

        # 4. A triggerer dies holding a wait whose deadline then passes while no triggerer runs it.
        deadline_runs = [f"deadline-{n}" for n in range(size.deadline_runs)]
        for run_id in deadline_runs:
            runs[airflow.trigger(CREATE_AND_WAIT, {"timeout": DEADLINE_TIMEOUT}, run_id)] = CREATE_AND_WAIT

        def deadline_triggers() -> list[Any] | None:
            rows = [t for t in airflow.triggers() if t.run_id in deadline_runs and t.triggerer_id]
            return rows if len(rows) == len(deadline_runs) else None

        deadline_rows = wait_for("the deadline waits to be deferred", deadline_triggers, SETTLE_TIMEOUT, 1)
        holder = airflow.triggerer_named(deadline_rows[0].triggerer_id)
        assert holder is not None
        on_holder = [t for t in deadline_rows if t.triggerer_id == deadline_rows[0].triggerer_id]
        end_time = min(float(t.kwargs["end_time"]) for t in on_holder)
        time.sleep(max(0.0, end_time - KILL_BEFORE_DEADLINE - time.time()))
        kill = _kill_triggerer(airflow, simulator, holder)
        adopted_tries.update(kill.tries)
        figures.crashes.append(f"kill -9 {holder} {end_time - kill.killed_at:.1f}s before a wait's deadline")
        assert kill.adopted_at > end_time, "the deadline passed while no triggerer ran the wait"
        figures.deadline_wait_adoption_seconds = round(kill.adopted_at - kill.killed_at, 1)
        survivor_jobs = set(airflow.triggerer_jobs[next(n for n in TRIGGERERS if n != holder)])
        deadline_adopted = {t.run_id for t in on_holder}

        def deadline_runs_over() -> bool | None:
            states = [airflow.task_instance(CREATE_AND_WAIT, r, "create")["state"] for r in deadline_runs]
            return True if all(state == "failed" for state in states) else None

        wait_for("the deadline waits to time out", deadline_runs_over, 180, 2)
        # What a user sees: each session paused within a poll plus the threshold of its deadline
        # (the deadline the task set, checked against the timeout the run asked for), and the task over.
        pause_late, task_late = [], []
        run_started = {
            r["dag_run_id"]: parse_api_time(r.get("start_date")) for r in airflow.runs(CREATE_AND_WAIT)
        }
        for row in on_holder:
            ti = airflow.task_instance(CREATE_AND_WAIT, row.run_id, "create")
            deadline = float(row.kwargs["end_time"])
            since_run_start = deadline - (run_started[row.run_id] or 0.0)
            assert DEADLINE_TIMEOUT <= since_run_start <= DEADLINE_TIMEOUT + 120, (row, since_run_start)
            late = check_deadline_seen(
                deadline,
                simulator.counters.request_times("abort", str(row.kwargs["session_id"])),
                parse_api_time(ti.get("end_date")),
                poll=POLL_SECONDS,
                threshold=TRIGGERER_HEALTH_CHECK_THRESHOLD,
                resume=RESUME_SECONDS,
            )
            pause_late.append(late[0])
            task_late.append(late[1])
        figures.deadline_pause_late_seconds = max(pause_late)
        figures.deadline_task_end_late_seconds = max(task_late)

        # 5. The clock runs again; the scheduler is killed, PostgreSQL and Redis restarted, while
        # the runs finish. A component that exits meanwhile is started again, as a service manager
        # would, and named in the figures.
        ticker.run()
        time.sleep(10)
        airflow.kill("scheduler")
        figures.crashes.append("kill -9 scheduler")
        time.sleep(5)
        airflow.start("scheduler")
        time.sleep(10)
        figures.restarts["postgresql_down_seconds"] = airflow.postgres.restart()
        figures.crashes.append("PostgreSQL restarted")
        time.sleep(10)
        figures.restarts["redis_down_seconds"] = airflow.redis.restart()
        figures.crashes.append("Redis restarted")
        time.sleep(10)

        def recovered() -> bool | None:
            figures.components_restarted += airflow.restart_exited()
            return airflow.healthy()

        wait_for("the API server to answer after the restarts", recovered, 120)

        def all_finished() -> bool | None:
            figures.components_restarted += airflow.restart_exited()
            states = _run_states(airflow)
            return True if all(states.get(run_id) in FINISHED_RUN for run_id in runs) else None

        wait_for("every run to finish", all_finished, FINISH_TIMEOUT, 3)
        # Sessions paused by a task are still "stopping" until the clock lets them finish.
        wait_for(
            "pauses to complete",
            lambda: None if any(map_status(s["status"]) == STOPPING for s in simulator.sessions()) else True,
            60,
        )
    except AssertionError as error:
        raise AssertionError(_failure_report(airflow, runs, error)) from None
    finally:
        ticker.close()
        sampler.close()
        simulator.faults.clear()

    # -- what must hold --------------------------------------------------------------------------
    final = _run_states(airflow)
    expected = {run_id: ("success" if dag_id == LIFECYCLE else "failed") for run_id, dag_id in runs.items()}
    assert {run_id: final[run_id] for run_id in runs} == expected
    figures.runs = dict(Counter(f"{runs[r]}: {state}" for r, state in final.items() if r in runs))

    names = session_by_name(simulator)
    per_run = {run_id: names.get(session_name(dag_id, run_id), []) for run_id, dag_id in runs.items()}
    figures.sessions_created = len(simulator.sessions())
    figures.sessions_duplicated = sum(max(0, len(found) - 1) for found in per_run.values())
    figures.sessions_leaked = sum(
        1 for found in per_run.values() for s in found if map_status(s["status"]) in LIVE_STATUSES
    )
    assert {run_id: len(found) for run_id, found in per_run.items()} == dict.fromkeys(runs, 1)
    assert figures.sessions_created == len(runs)
    assert figures.sessions_leaked == 0
    for run_id in killed_runs:  # the retry carried on with the session the killed try made
        ti = airflow.task_instance(LIFECYCLE, run_id, "create")
        assert ti["try_number"] > killed_tries[run_id], ti
        assert ti["state"] == "success", ti
    # No adopted wait hid behind a retry: each task's try is the one that deferred before the kill.
    check_tries_unchanged(adopted_tries, dict(_tries_now(airflow, adopted_tries)))

    # The adopted deadline waits paused their sessions, from the triggerer that adopted them.
    for run_id in deadline_runs:
        session = names[session_name(CREATE_AND_WAIT, run_id)][0]
        assert map_status(session["status"]) == PAUSED
        if run_id in deadline_adopted:
            logs = _trigger_logs(airflow, CREATE_AND_WAIT, run_id, "create")
            by_survivor = "\n".join(text for job, text in logs.items() if job in survivor_jobs)
            assert "because the wait timed out" in by_survivor, logs

    # Both triggerers carried waits; the API key is in no log and no process output.
    figures.triggers_per_triggerer = sampler.per_triggerer()
    print(f"\nwaits carried per triggerer: {figures.triggers_per_triggerer}")
    assert all(figures.triggers_per_triggerer.get(name, 0) > 0 for name in TRIGGERERS)
    assert _files_containing(airflow.home, API_KEY.encode()) == []

    # Every kind of fault was injected; no wait polled faster than its interval, no run asked more.
    counters = simulator.counters
    figures.injected = {
        "503": counters.responses(503),
        "429": counters.responses(429),
        "dropped": counters.dropped,
        "held creates": held_creates,
    }
    check_faults_injected(figures.injected)
    figures.injected_failures = (
        figures.injected["503"] + figures.injected["429"] + figures.injected["dropped"]
    )
    figures.requests = {name: counters.requests(name) for name in ("create", "get", "abort")}
    figures.seconds = round(time.monotonic() - started, 1)
    polls = {s["_id"]: counters.requests("get", s["_id"]) for s in simulator.sessions()}
    figures.max_polls_of_one_session = max(polls.values())
    poll_limit = POLL_CEILING * figures.seconds / POLL_SECONDS
    check_request_ceiling({"get": figures.max_polls_of_one_session}, 1, {"get": poll_limit})
    check_request_ceiling(figures.requests, len(runs), {**REQUESTS_PER_RUN, "get": poll_limit})
    print(json.dumps(asdict(figures), indent=2))
    soak_figures.update(asdict(figures))


# -- what a real triggerer process pays per wait ----------------------------------------------------

MEMORY = "cloudos_soak_memory"
#: Wait counts measured in one triggerer process, by scale (0 is the baseline).
MEMORY_WAITS = {"ci": (0, 24), "full": (0, 200, 1000)}


#: Memory is read this many times, this many seconds apart, at each wait count (the median is kept).
MEMORY_SAMPLES = 5
MEMORY_SAMPLE_SECONDS = 2.0


def _tree_pss_mib(airflow: AirflowDeployment, name: str) -> dict[str, float]:
    """Proportional set size of a component and every process it started (the triggerer runs its
    triggers in a child process), sampled several times: median, min and max in MiB. PSS counts
    pages shared with the supervisor once, where RSS would count them in each process."""
    root = airflow.processes[name].pid
    return sampled_mib(lambda: pss_kib(process_tree(root)), MEMORY_SAMPLES, MEMORY_SAMPLE_SECONDS)


def test_triggerer_memory_per_wait(deployment, simulator, scale, soak_figures):
    """PSS of one real triggerer carrying N provider waits (the other triggerer is stopped)."""
    scale_name, _ = scale
    airflow: AirflowDeployment = deployment
    simulator.faults.clear()
    airflow.unpause(MEMORY)
    carrier, other = TRIGGERERS
    airflow.stop(other)
    measured: dict[int, dict[str, float]] = {}
    held_before = 0
    for number, waits in enumerate(MEMORY_WAITS[scale_name]):
        added = waits - held_before
        if added:
            ids = [
                simulator.add_session(name=f"memory-{number}-{i}", status="scheduled")["_id"]
                for i in range(added)
            ]
            airflow.trigger(MEMORY, {"session_ids": ids}, f"memory-{number}")

        def carried(expected: int = waits) -> int | None:
            airflow.check_alive()
            held = sum(1 for t in airflow.triggers() if t.dag_id == MEMORY and t.triggerer_id is not None)
            return held if held == expected else None

        wait_for(f"{carrier} to carry {waits} waits", carried, 3600, 5)
        time.sleep(10)  # let the new triggers make their first poll and the loop settle
        measured[waits] = _tree_pss_mib(airflow, carrier)
        held_before = waits
    baseline = measured[0]["median"]
    per_wait = {n: round((pss["median"] - baseline) * 1024 / n, 1) for n, pss in measured.items() if n}
    print(f"\ntriggerer PSS (MiB) by waits: {measured}; KiB per wait: {per_wait}")
    assert all(pss["min"] > 0 for pss in measured.values())
    soak_figures["triggerer_pss_mib"] = {str(n): pss for n, pss in measured.items()}
    soak_figures["memory_samples"] = MEMORY_SAMPLES
