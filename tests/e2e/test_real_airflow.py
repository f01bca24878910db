"""The example DAGs run by a real Airflow: api-server, scheduler, dag-processor and triggerer.

Everything a deployment has, on one machine and on loopback only: SQLite, the LocalExecutor
(parallelism 4), each component in its own process group, free ports for the API and the two
log servers, the CloudOS simulator in this process. The test drives Airflow only through its REST
API (``/api/v2``), as a user or another system would:

1. the pipeline and the on-demand DAG (with a ``conf``) are unpaused and triggered; the working
   hours resume DAG is unpaused and the scheduler starts its latest weekday 08:00 run itself;
2. then the pause DAG the same way (its 20:00 run);
3. last, alone (it pauses every running session), the nightly cleanup.

It checks that every run succeeds, that the waiting tasks were deferred (their trigger ran in
the triggerer process, as its log shows), and that no session is left running except the one on
the cleanup's allow-list. Sessions change state only when the test moves the simulator's clock
(see ``ClockDriver``), so no step depends on the machine's speed. All processes are stopped in
the fixture's teardown, whatever happens.

Run it with ``pytest -m airflow_e2e tests/e2e``; it needs Airflow 3 (on 2.x it is skipped).
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
import requests

from airflow_provider_cloudos.compat import AIRFLOW_V_3_0_PLUS
from airflow_provider_cloudos.core.status import LIVE_STATUSES, PAUSED, RUNNING, map_status
from airflow_provider_cloudos.testing import CloudOSSimulator, ManualClock, StateTimings

pytestmark = pytest.mark.airflow_e2e

if not AIRFLOW_V_3_0_PLUS:
    # Issue 8 keeps this test on 3.x (make test-airflow2 leaves tests/e2e out): it drives Airflow
    # 3's api-server, dag-processor and /api/v2 REST API, which 2.11 does not have.
    pytest.skip("the end-to-end test drives Airflow 3's components", allow_module_level=True)

EXAMPLE_DAGS = Path(__file__).resolve().parents[2] / "example_dags"
PIPELINE = "example_cloudos_pipeline"
ON_DEMAND = "example_cloudos_on_demand"
RESUME = "example_cloudos_working_hours_resume"
PAUSE = "example_cloudos_working_hours_pause"
CLEANUP = "example_cloudos_nightly_cleanup"
ALL_DAGS = (PIPELINE, ON_DEMAND, RESUME, PAUSE, CLEANUP)
COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
#: The tasks that wait for a session, each of which must have been deferred to the triggerer.
WAITING_TASKS = (
    (PIPELINE, "wait_until_running"),
    (PIPELINE, "stop"),
    (ON_DEMAND, "create"),
    (ON_DEMAND, "stop"),
    (RESUME, "resume"),
    (PAUSE, "pause"),
    (CLEANUP, "pause_running_sessions"),
)
#: Each state lasts a second of the simulator's clock, which only moves in steps (see ClockDriver).
TIMINGS = StateTimings(scheduled=1.0, setup=1.0, initialising=1.0, aborting=1.0, resume_initialising=1.0)
CLOCK_STEP_SECONDS = 60.0
#: Bounds on waits; generous because they only stop a hang (the whole test takes 2-4 minutes).
START_TIMEOUT = 180.0
RUN_TIMEOUT = 240.0
STOP_TIMEOUT = 10.0
FINISHED_RUN = {"success", "failed"}
FINISHED_TASK = {"success", "failed", "skipped", "upstream_failed", "removed"}
_DEFERRAL_PROCESSED = re.compile(
    r"TaskInstance Finished: dag_id=(?P<dag>[^,]+), task_id=(?P<task>[^,]+), run_id=(?P<run>[^,]+),"
    r".*?\bstate=deferred,"
)
T = TypeVar("T")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(what: str, check: Callable[[], T | None], timeout: float, interval: float = 1.0) -> T:
    """Poll ``check`` until it returns something other than None; fail naming ``what`` on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result is not None:
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def _stop_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process group, then SIGKILL whatever is left of it (workers included)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(STOP_TIMEOUT)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(STOP_TIMEOUT)


def _loopback_session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # loopback only: never a proxy from the environment
    return session


@dataclass
class AirflowStack:
    """Airflow's components as subprocesses of this test, and a small client of their REST API."""

    home: Path
    env: dict[str, str]
    api_url: str
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    http: requests.Session = field(default_factory=_loopback_session)
    _upstreams: dict[str, dict[str, set[str]]] = field(default_factory=dict)

    # -- processes --------------------------------------------------------------------------

    def log_path(self, component: str) -> Path:
        return self.home / f"{component}.out"

    def run(self, *arguments: str) -> None:
        """One ``airflow`` command to completion (bounded), in its own process group."""
        with self.log_path(arguments[0]).open("ab") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "airflow", *arguments],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                code = process.wait(START_TIMEOUT)
            finally:
                _stop_group(process)
        assert code == 0, f"airflow {' '.join(arguments)} failed:\n{self.log_tail(arguments[0])}"

    def start(self, component: str, *arguments: str) -> None:
        with self.log_path(component).open("ab") as out:
            self.processes[component] = subprocess.Popen(
                [sys.executable, "-m", "airflow", component, *arguments],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, with every child it starts
            )

    def check_alive(self) -> None:
        for component, process in self.processes.items():
            code = process.poll()
            assert code is None, f"the {component} exited with {code}:\n{self.log_tail(component)}"

    def stop(self) -> None:
        for process in self.processes.values():
            _stop_group(process)

    def log_tail(self, component: str, lines: int = 60) -> str:
        path = self.log_path(component)
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def diagnostics(self) -> str:
        return "\n".join(f"--- {name} ---\n{self.log_tail(name, 25)}" for name in COMPONENTS)

    # -- REST API ---------------------------------------------------------------------------

    def api(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self.http.request(method, f"{self.api_url}/api/v2{path}", json=body, timeout=30)
        assert response.ok, f"{method} {path} -> {response.status_code}: {response.text[:2000]}"
        return response.json() if response.content else None

    def healthy(self) -> bool | None:
        self.check_alive()
        try:
            self.api("GET", "/monitor/health")
        except (AssertionError, requests.RequestException):
            return None
        return True

    def parsed_dags(self) -> set[str] | None:
        self.check_alive()
        found = {dag["dag_id"] for dag in self.api("GET", "/dags?limit=100")["dags"]}
        return found if found >= set(ALL_DAGS) else None

    def unpause(self, dag_id: str) -> None:
        self.api("PATCH", f"/dags/{dag_id}", {"is_paused": False})

    def pause(self, dag_id: str) -> None:
        """Paused again once its phase is over, so no later schedule slot adds a run mid-test."""
        self.api("PATCH", f"/dags/{dag_id}", {"is_paused": True})

    def trigger(self, dag_id: str, conf: dict[str, Any] | None = None) -> str:
        run = self.api("POST", f"/dags/{dag_id}/dagRuns", {"logical_date": None, "conf": conf or {}})
        return str(run["dag_run_id"])

    def runs(self, dag_id: str) -> list[dict[str, Any]]:
        return list(self.api("GET", f"/dags/{dag_id}/dagRuns?limit=100")["dag_runs"])

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        quoted = urllib.parse.quote(run_id, safe="")
        return list(self.api("GET", f"/dags/{dag_id}/dagRuns/{quoted}/taskInstances")["task_instances"])

    def upstreams(self, dag_id: str) -> dict[str, set[str]]:
        """Each task's upstream task ids (the API lists downstreams; turned around once per DAG)."""
        if dag_id not in self._upstreams:
            tasks = self.api("GET", f"/dags/{dag_id}/tasks")["tasks"]
            upstream: dict[str, set[str]] = {task["task_id"]: set() for task in tasks}
            for task in tasks:
                for downstream in task["downstream_task_ids"]:
                    upstream[downstream].add(task["task_id"])
            self._upstreams[dag_id] = upstream
        return self._upstreams[dag_id]


@dataclass
class ClockDriver:
    """Moves the simulator's clock only when no waiting task can be caught between check and defer.

    Sessions change state only when this clock moves. It moves when (a) some task is deferred,
    (b) the scheduler has processed every deferred task's worker exit, and (c) no task is running,
    queued, scheduled or ready to be scheduled. So every waiting task finds its session still
    short of the target and defers, and no trigger fires before the scheduler has seen its task
    leave the worker: Airflow 3.3.2 fails a task whose trigger fires before that (the exit is then
    taken for the resumed try ending), a race that would otherwise depend on the machine's speed.
    """

    stack: AirflowStack
    clock: ManualClock
    moves: int = 0

    def _deferral_processed(self) -> set[tuple[str, str, str]]:
        text = self.stack.log_path("scheduler").read_text(errors="replace")
        return {(m["dag"], m["task"], m["run"]) for m in _DEFERRAL_PROCESSED.finditer(text)}

    def step(self, dag_ids: Sequence[str]) -> None:
        deferred: list[tuple[str, str, str]] = []
        for dag_id in dag_ids:
            upstreams = self.stack.upstreams(dag_id)
            for run in self.stack.runs(dag_id):
                if run["state"] in FINISHED_RUN:
                    continue
                if run["state"] != "running":
                    return  # a run about to start: its first task may be about to check a session
                states = {
                    ti["task_id"]: ti["state"] for ti in self.stack.task_instances(dag_id, run["dag_run_id"])
                }
                for task_id, state in states.items():
                    if state == "deferred":
                        deferred.append((dag_id, task_id, run["dag_run_id"]))
                    elif state not in FINISHED_TASK and (
                        state is not None
                        or all(states.get(up) in FINISHED_TASK for up in upstreams.get(task_id, ()))
                    ):
                        return  # running, queued, scheduled, or ready to be scheduled
        if deferred and set(deferred) <= self._deferral_processed():
            self.clock.advance(CLOCK_STEP_SECONDS)
            self.moves += 1


def _environment(home: Path, simulator: CloudOSSimulator, api_port: int, reports: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW")}
    api_url = f"http://127.0.0.1:{api_port}"
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(EXAMPLE_DAGS),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": "4",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{api_url}/execution/",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(api_port),
            "AIRFLOW__API__BASE_URL": api_url,
            "AIRFLOW__API__WORKERS": "1",
            # Every component must sign and check the same tokens.
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
            "AIRFLOW__API__SECRET_KEY": secrets.token_hex(16),
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(_free_port()),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(_free_port()),
            "AIRFLOW__LOGGING__COLORED_CONSOLE_LOG": "False",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW_CONN_CLOUDOS_DEFAULT": simulator.connection_json(),
            "AIRFLOW_VAR_CLOUDOS_REPORT_DIR": str(reports),
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


@pytest.fixture(scope="module")
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture(scope="module")
def simulator(clock: ManualClock) -> Iterator[CloudOSSimulator]:
    with CloudOSSimulator(timings=TIMINGS, clock=clock) as sim:
        yield sim


@pytest.fixture(scope="module")
def team_session(simulator: CloudOSSimulator) -> str:
    """The team's session, paused overnight; the working-hours DAGs find it through the Variable."""
    return str(simulator.add_session(name="team-session", status="aborted")["_id"])


@pytest.fixture(scope="module")
def stack(
    simulator: CloudOSSimulator, team_session: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AirflowStack]:
    home = tmp_path_factory.mktemp("e2e-airflow-home")
    api_port = _free_port()
    env = _environment(home, simulator, api_port, home / "reports")
    env["AIRFLOW_VAR_CLOUDOS_TEAM_SESSION_ID"] = team_session
    airflow = AirflowStack(home=home, env=env, api_url=f"http://127.0.0.1:{api_port}")
    try:
        airflow.run("db", "migrate")
        airflow.start("api-server", "--host", "127.0.0.1", "--port", str(api_port), "--workers", "1")
        airflow.start("scheduler")
        airflow.start("dag-processor")
        airflow.start("triggerer")
        wait_for("the API server to answer", airflow.healthy, START_TIMEOUT)
        wait_for("the DAG processor to parse the example DAGs", airflow.parsed_dags, START_TIMEOUT, 2.0)
        yield airflow
    except AssertionError as error:
        raise AssertionError(f"{error}\n{airflow.diagnostics()}") from None
    finally:
        airflow.stop()


def _run_to_the_end(stack: AirflowStack, driver: ClockDriver, dag_ids: Sequence[str]) -> None:
    """Drive the clock until every run of ``dag_ids`` (at least one each) is over; all must succeed."""

    def finished() -> bool | None:
        stack.check_alive()
        driver.step(dag_ids)
        runs = {dag_id: stack.runs(dag_id) for dag_id in dag_ids}
        done = all(r and all(run["state"] in FINISHED_RUN for run in r) for r in runs.values())
        return True if done else None

    try:
        wait_for(f"the runs of {', '.join(dag_ids)} to finish", finished, RUN_TIMEOUT)
    except AssertionError as error:
        raise AssertionError(f"{error}: {_states(stack, dag_ids)}\n{stack.diagnostics()}") from None
    for dag_id in dag_ids:
        for run in stack.runs(dag_id):
            assert run["state"] == "success", f"{_states(stack, dag_ids)}\n{stack.diagnostics()}"


def _states(stack: AirflowStack, dag_ids: Sequence[str]) -> dict[str, Any]:
    return {
        f"{dag_id}/{run['dag_run_id']} ({run['state']})": {
            ti["task_id"]: ti["state"] for ti in stack.task_instances(dag_id, run["dag_run_id"])
        }
        for dag_id in dag_ids
        for run in stack.runs(dag_id)
    }


def _trigger_logs(stack: AirflowStack, dag_id: str, task_id: str) -> list[str]:
    """The logs the triggerer wrote for this task's triggers (``attempt=N.log.trigger.<job>.log``)."""
    folder = stack.home / "logs" / f"dag_id={dag_id}"
    return [
        path.read_text(errors="replace")
        for path in folder.glob(f"run_id=*/task_id={task_id}/*.log.trigger.*")
    ]


def test_example_dags_run_in_a_real_airflow(stack, simulator, clock, team_session):
    driver = ClockDriver(stack, clock)

    # 1. Two DAGs triggered through the REST API; the scheduler starts the morning resume itself.
    for dag_id in (PIPELINE, ON_DEMAND, RESUME):
        stack.unpause(dag_id)
    conf = {"session_name": "e2e", "session_type": "rstudio", "storage_size": 800, "shutdown_in": "1h"}
    stack.trigger(PIPELINE)
    on_demand_run = stack.trigger(ON_DEMAND, conf)
    _run_to_the_end(stack, driver, (PIPELINE, ON_DEMAND, RESUME))
    for dag_id in (PIPELINE, ON_DEMAND, RESUME):
        stack.pause(dag_id)
    assert map_status(simulator.session(team_session)["status"]) == RUNNING
    create = next(ti for ti in stack.task_instances(ON_DEMAND, on_demand_run) if ti["task_id"] == "create")
    rendered = create["rendered_fields"]
    assert (rendered["session_type"], rendered["storage_size"]) == ("rstudio", 800)
    assert str(rendered["name"]).startswith("e2e-manual-")  # from the plan task's XCom

    # 2. The evening pause, from its schedule.
    stack.unpause(PAUSE)
    _run_to_the_end(stack, driver, (PAUSE,))
    stack.pause(PAUSE)
    assert map_status(simulator.session(team_session)["status"]) == PAUSED

    # 3. The nightly cleanup, alone: it pauses every running session not on its allow-list.
    forgotten = simulator.add_session(name="forgotten-notebook", status="ready")["_id"]
    allowed = simulator.add_session(name="shared-dashboard", status="ready")["_id"]
    stack.unpause(CLEANUP)
    _run_to_the_end(stack, driver, (CLEANUP,))
    stack.pause(CLEANUP)
    assert map_status(simulator.session(forgotten)["status"]) == PAUSED
    assert map_status(simulator.session(allowed)["status"]) == RUNNING  # on the allow-list

    # Every wait was handed to the triggerer, which ran the trigger to its event.
    for dag_id, task_id in WAITING_TASKS:
        logs = _trigger_logs(stack, dag_id, task_id)
        assert any("Trigger fired event" in log for log in logs), (dag_id, task_id, logs)

    # Nothing left billing but the session the cleanup is told to leave alone.
    left = [s["_id"] for s in simulator.sessions() if map_status(s.get("status")) in LIVE_STATUSES]
    assert left == [allowed]
    assert simulator.counters.requests("create") == 2
    assert simulator.counters.requests("resume") == 1
