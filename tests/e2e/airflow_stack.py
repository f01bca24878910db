"""A real Airflow 3 on this machine, for the tests that drive it from outside.

Shared by the end-to-end test (``test_real_airflow.py``, REST API only) and the browser test
(``test_browser_ui.py``, Airflow's web UI): api-server, scheduler, dag-processor and triggerer
as subprocesses, SQLite, the LocalExecutor (parallelism 4), each component in its own process
group, free loopback ports for the API and the two log servers, the CloudOS simulator in the
test's process. ``running_stack`` starts them and stops every process afterwards, whatever
happens. ``ClockDriver`` moves the simulator's clock only when no waiting task can be caught
between its check and its deferral, so no run depends on the machine's speed.
"""

from __future__ import annotations

import contextlib
import json
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

import requests

from airflow_provider_cloudos.testing import CloudOSSimulator, ManualClock, StateTimings

EXAMPLE_DAGS = Path(__file__).resolve().parents[2] / "example_dags"
COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
#: Each state lasts a second of the simulator's clock, which only moves in steps (see ClockDriver).
TIMINGS = StateTimings(scheduled=1.0, setup=1.0, initialising=1.0, aborting=1.0, resume_initialising=1.0)
CLOCK_STEP_SECONDS = 60.0
#: Bounds on waits; generous because they only stop a hang (a whole test takes a few minutes).
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


def free_port() -> int:
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


def _stop_groups(processes: Sequence[subprocess.Popen[bytes]]) -> None:
    """SIGTERM each process group, then SIGKILL whatever is left of them (workers included).

    All are asked at once and given one shared grace period, so stopping four components
    takes as long as the slowest, not the sum.
    """
    for process in processes:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    for process in processes:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(max(0.0, deadline - time.monotonic()))
    for process in processes:
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
    #: The DAGs the dag-processor must have parsed before a test may use the stack.
    expected_dags: frozenset[str] = frozenset()
    #: A (username, password) to log in with; None when every request is an admin's
    #: (``simple_auth_manager_all_admins``).
    credentials: tuple[str, str] | None = None
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
                _stop_groups([process])
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
        _stop_groups(list(self.processes.values()))

    def log_tail(self, component: str, lines: int = 60) -> str:
        path = self.log_path(component)
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def diagnostics(self) -> str:
        return "\n".join(f"--- {name} ---\n{self.log_tail(name, 25)}" for name in COMPONENTS)

    # -- REST API ---------------------------------------------------------------------------

    def _log_in(self) -> None:
        """Trade the credentials for a token once; every later request carries it."""
        if self.credentials is None or "Authorization" in self.http.headers:
            return
        username, password = self.credentials
        response = self.http.post(
            f"{self.api_url}/auth/token", json={"username": username, "password": password}, timeout=30
        )
        assert response.ok, f"logging in as {username} -> {response.status_code}: {response.text[:500]}"
        self.http.headers["Authorization"] = f"Bearer {response.json()['access_token']}"

    def api(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        self._log_in()
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
        return found if found >= self.expected_dags else None

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


def airflow_environment(
    home: Path, simulator: CloudOSSimulator, api_port: int, extra: dict[str, str] | None = None
) -> dict[str, str]:
    """The components' environment: this machine's, minus any AIRFLOW_* of its own, plus ours."""
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
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__LOGGING__COLORED_CONSOLE_LOG": "False",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW_CONN_CLOUDOS_DEFAULT": simulator.connection_json(),
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra or {})
    return env


def with_login(home: Path, username: str, password: str) -> dict[str, str]:
    """Environment for a stack with a login page: one admin user of the simple auth manager.

    Without it every visitor is an admin and the UI shows no login page at all.
    """
    passwords = home / "simple_auth_manager_passwords.json"
    passwords.write_text(json.dumps({username: password}))
    return {
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{username}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
    }


@contextlib.contextmanager
def running_stack(
    home: Path,
    simulator: CloudOSSimulator,
    expected_dags: Sequence[str],
    extra_env: dict[str, str],
    credentials: tuple[str, str] | None = None,
) -> Iterator[AirflowStack]:
    """Migrate, start the four components, wait until the API answers and the DAGs are parsed."""
    api_port = free_port()
    env = airflow_environment(home, simulator, api_port, extra_env)
    airflow = AirflowStack(
        home=home,
        env=env,
        api_url=f"http://127.0.0.1:{api_port}",
        expected_dags=frozenset(expected_dags),
        credentials=credentials,
    )
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


def states(stack: AirflowStack, dag_ids: Sequence[str]) -> dict[str, Any]:
    """Every run's task states, for failure messages."""
    return {
        f"{dag_id}/{run['dag_run_id']} ({run['state']})": {
            ti["task_id"]: ti["state"] for ti in stack.task_instances(dag_id, run["dag_run_id"])
        }
        for dag_id in dag_ids
        for run in stack.runs(dag_id)
    }


def run_to_the_end(stack: AirflowStack, driver: ClockDriver, dag_ids: Sequence[str]) -> None:
    """Drive the clock until every run of ``dag_ids`` (at least one each) is over; all must succeed."""

    def finished() -> bool | None:
        stack.check_alive()
        try:
            driver.step(dag_ids)
            runs = {dag_id: stack.runs(dag_id) for dag_id in dag_ids}
        except requests.Timeout:
            # The single api-server worker can stall for tens of seconds on a loaded machine
            # (SQLite writers queue behind each other); a slow answer is not an answer, so ask
            # again. The clock moves only after a complete round of answers.
            return None
        done = all(r and all(run["state"] in FINISHED_RUN for run in r) for r in runs.values())
        return True if done else None

    try:
        wait_for(f"the runs of {', '.join(dag_ids)} to finish", finished, RUN_TIMEOUT)
    except AssertionError as error:
        raise AssertionError(f"{error}: {states(stack, dag_ids)}\n{stack.diagnostics()}") from None
    for dag_id in dag_ids:
        for run in stack.runs(dag_id):
            assert run["state"] == "success", f"{states(stack, dag_ids)}\n{stack.diagnostics()}"
