"""Airflow's components as subprocesses of a test, and a small client of their REST API.

Shared by the tests that drive a real Airflow from outside: the end-to-end and browser tests
(``tests/e2e/airflow_stack.py``: SQLite, the LocalExecutor) and the production-shaped deployment
test (``tests/deployment/airflow_deployment.py``: PostgreSQL, Celery, two triggerers). What they
share is how a component lives (its own process group, its output in ``<home>/<name>.out``,
stopped whatever happens, descendants included) and how the test talks to Airflow: the REST API,
as a user would, over loopback only.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import requests

T = TypeVar("T")
#: How long a bounded ``airflow`` command (``db migrate``, ``users create``, ...) may take.
COMMAND_TIMEOUT = 240.0
#: The grace period between SIGTERM and SIGKILL.
STOP_TIMEOUT = 15.0


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


def loopback_http() -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # loopback only: never a proxy from the environment
    return session


def _children() -> dict[int, list[int]]:
    """Every process's children, read from /proc (a killed parent's children are gone from ps trees)."""
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            stat = (entry / "stat").read_text()
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            tree.setdefault(parent, []).append(int(entry.name))
    return tree


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants."""
    tree, found, todo = _children(), [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(tree.get(current, ()))
    return found


def stop_process_groups(processes: Sequence[subprocess.Popen[bytes]]) -> None:
    """SIGTERM each process group, then SIGKILL whatever is left of them and of their descendants.

    All are asked at once and given one shared grace period, so stopping several components
    takes as long as the slowest, not the sum. Descendants are found through /proc as well,
    since a task process may have left its component's group.
    """
    for process in processes:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    for process in processes:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(max(0.0, deadline - time.monotonic()))
    for process in processes:
        for pid in process_tree(process.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(STOP_TIMEOUT)


class AirflowProcesses:
    """Start, watch and stop ``airflow`` commands, and call the REST API (a mixin for dataclasses).

    The class that uses it provides ``home``, ``env``, ``api_url``, ``processes`` and ``http``;
    ``credentials`` (a username and password to log in with) is None when every request is an
    admin's (``simple_auth_manager_all_admins``).
    """

    home: Path
    env: dict[str, str]
    api_url: str
    processes: dict[str, subprocess.Popen[bytes]]
    http: requests.Session
    credentials: tuple[str, str] | None = None

    # -- processes --------------------------------------------------------------------------

    def output_path(self, name: str) -> Path:
        return self.home / f"{name}.out"

    def run(self, *arguments: str) -> None:
        """One ``airflow`` command to completion (bounded), in its own process group."""
        with self.output_path(arguments[0]).open("ab") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "airflow", *arguments],
                env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
            try:
                code = process.wait(COMMAND_TIMEOUT)
            finally:
                stop_process_groups([process])
        assert code == 0, f"airflow {' '.join(arguments)} failed:\n{self.tail(arguments[0])}"

    def spawn(self, name: str, arguments: Sequence[str], env: dict[str, str] | None = None) -> None:
        """Start ``airflow <arguments>`` as component ``name``, in its own process group."""
        with self.output_path(name).open("ab") as out:
            self.processes[name] = subprocess.Popen(
                [sys.executable, "-m", "airflow", *arguments],
                env=env or self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip

    def check_alive(self) -> None:
        for name, process in self.processes.items():
            code = process.poll()
            assert code is None, f"the {name} exited with {code}:\n{self.tail(name)}"

    def tail(self, name: str, lines: int = 60) -> str:
        path = self.output_path(name)
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    # -- REST API ---------------------------------------------------------------------------

    def _log_in(self) -> None:
        """Trade the credentials for a token once; every later request carries it."""
        if self.credentials is None or "Authorization" in self.http.headers:
            return
        username, password = self.credentials
        response = self.http.post(
            f"{self.api_url}/auth/token", json={"username": username, "password": password}, timeout=60
        )
        assert response.ok, f"logging in as {username} -> {response.status_code}: {response.text[:500]}"
        self.http.headers["Authorization"] = f"Bearer {response.json()['access_token']}"

    def api(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        self._log_in()
        response = self.http.request(method, f"{self.api_url}/api/v2{path}", json=body, timeout=60)
        assert response.ok, f"{method} {path} -> {response.status_code}: {response.text[:2000]}"
        return response.json() if response.content else None

    def healthy(self) -> bool | None:
        self.check_alive()
        try:
            self.api("GET", "/monitor/health")
        except (AssertionError, requests.RequestException):
            return None
        return True

    def parsed_dags(self, expected: set[str] | frozenset[str]) -> set[str] | None:
        """The DAGs the dag-processor has parsed, once they include ``expected`` (else None)."""
        self.check_alive()
        found = {dag["dag_id"] for dag in self.api("GET", "/dags?limit=100")["dags"]}
        return found if found >= expected else None

    def unpause(self, dag_id: str) -> None:
        self.api("PATCH", f"/dags/{dag_id}", {"is_paused": False})

    def pause(self, dag_id: str) -> None:
        """Paused again once its phase is over, so no later schedule slot adds a run mid-test."""
        self.api("PATCH", f"/dags/{dag_id}", {"is_paused": True})

    def trigger(self, dag_id: str, conf: dict[str, Any] | None = None, run_id: str | None = None) -> str:
        body: dict[str, Any] = {"logical_date": None, "conf": conf or {}}
        if run_id is not None:
            body["dag_run_id"] = run_id
        return str(self.api("POST", f"/dags/{dag_id}/dagRuns", body)["dag_run_id"])

    def runs(self, dag_id: str) -> list[dict[str, Any]]:
        return list(self.api("GET", f"/dags/{dag_id}/dagRuns?limit=200")["dag_runs"])

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        quoted = urllib.parse.quote(run_id, safe="")
        return list(self.api("GET", f"/dags/{dag_id}/dagRuns/{quoted}/taskInstances")["task_instances"])
