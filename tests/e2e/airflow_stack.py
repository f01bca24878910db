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
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from airflow_processes import AirflowProcesses, free_port, loopback_http, stop_process_groups, wait_for

from airflow_provider_cloudos.testing import CloudOSSimulator, ManualClock, StateTimings

EXAMPLE_DAGS = Path(__file__).resolve().parents[2] / "example_dags"
COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
#: Each state lasts a second of the simulator's clock, which only moves in steps (see ClockDriver).
TIMINGS = StateTimings(scheduled=1.0, setup=1.0, initialising=1.0, aborting=1.0, resume_initialising=1.0)
CLOCK_STEP_SECONDS = 60.0
#: Bounds on waits; generous because they only stop a hang (a whole test takes a few minutes).
START_TIMEOUT = 180.0
RUN_TIMEOUT = 240.0
FINISHED_RUN = {"success", "failed"}
FINISHED_TASK = {"success", "failed", "skipped", "upstream_failed", "removed"}
_DEFERRAL_PROCESSED = re.compile(
    r"TaskInstance Finished: dag_id=(?P<dag>[^,]+), task_id=(?P<task>[^,]+), run_id=(?P<run>[^,]+),"
    r".*?\bstate=deferred,"
)


@dataclass
class AirflowStack(AirflowProcesses):
    """Airflow's four components as subprocesses of this test (SQLite, the LocalExecutor)."""

    home: Path
    env: dict[str, str]
    api_url: str
    #: The DAGs the dag-processor must have parsed before a test may use the stack.
    expected_dags: frozenset[str] = frozenset()
    #: A (username, password) to log in with; None when every request is an admin's
    #: (``simple_auth_manager_all_admins``).
    credentials: tuple[str, str] | None = None
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    http: requests.Session = field(default_factory=loopback_http)
    _upstreams: dict[str, dict[str, set[str]]] = field(default_factory=dict)

    def log_path(self, component: str) -> Path:
        return self.output_path(component)

    def start(self, component: str, *arguments: str) -> None:
        self.spawn(component, [component, *arguments])

    def stop(self) -> None:
        stop_process_groups(list(self.processes.values()))

    def diagnostics(self) -> str:
        return "\n".join(f"--- {name} ---\n{self.tail(name, 25)}" for name in COMPONENTS)

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
        wait_for(
            "the DAG processor to parse the example DAGs",
            lambda: airflow.parsed_dags(airflow.expected_dags),
            START_TIMEOUT,
            2.0,
        )
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
