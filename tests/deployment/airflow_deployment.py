"""A production-shaped Airflow 3 on one machine: PostgreSQL, Redis, Celery, two of what can be two.

``AirflowDeployment`` starts the api-server, the scheduler, the dag-processor, two triggerers and
two Celery workers, each in its own process group with its output in ``<home>/<name>.out``, all
on 127.0.0.1 and free ports. It can crash (``kill -9``) or restart any of them, talks to Airflow
through its REST API as a user would, and reads the metadata database directly only where the
API does not say what the test must know (which triggerer holds which trigger, and its kwargs).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.parse
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg2
import requests
from airflow_processes import (
    AirflowProcesses,
    free_port,
    loopback_http,
    process_tree,
    stop_process_groups,
    wait_for,
)
from cryptography.fernet import Fernet
from services import PostgresServer, RedisServer

STOP_TIMEOUT = 15.0
START_TIMEOUT = 240.0
#: A thousand-task DAG file takes its time to parse on a busy machine.
PARSE_TIMEOUT = 300.0
TRIGGERERS = ("triggerer-1", "triggerer-2")
WORKERS = ("worker-1", "worker-2")
#: Every component, in the order they start (the api-server first: the others call it).
COMPONENTS = ("api-server", "scheduler", "dag-processor", *WORKERS, *TRIGGERERS)
#: How many tasks each Celery worker runs at once: few, so waits must be deferred to fit at all.
WORKER_CONCURRENCY = 3
#: Seconds after a triggerer's last heartbeat before another takes over its triggers.
TRIGGERER_HEALTH_CHECK_THRESHOLD = 10
#: The deployment tests' DAG files, and the soak's two DAGs every deployment waits for.
DAGS = Path(__file__).resolve().parent / "dags"
LIFECYCLE = "cloudos_soak_lifecycle"
CREATE_AND_WAIT = "cloudos_soak_create_and_wait"


@contextlib.contextmanager
def deployment_workdir(prefix: str) -> Iterator[Path]:
    """Everything a deployment keeps on disk lives here and goes at the end (PostgreSQL's cluster
    included), unless ``CLOUDOS_KEEP_DEPLOYMENT=1`` keeps it to look at."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    path.chmod(0o755)  # the postgres user must reach its cluster folder inside
    try:
        yield path
    finally:
        if os.environ.get("CLOUDOS_KEEP_DEPLOYMENT") != "1":
            shutil.rmtree(path, ignore_errors=True)


def parent_chain(pid: int) -> list[int]:
    """``pid``, its parent, its parent's parent, ... up to init."""
    chain = [pid]
    with contextlib.suppress(OSError, IndexError, ValueError):
        while chain[-1] > 1:
            stat = Path(f"/proc/{chain[-1]}/stat").read_text()
            chain.append(int(stat.rsplit(")", 1)[1].split()[1]))
    return chain


def decode_trigger_kwargs(encrypted: str, fernet_key: str) -> dict[str, Any]:
    """A trigger row's kwargs as plain values (Airflow stores them Fernet-encrypted, serde-encoded)."""
    text = encrypted if encrypted.startswith("{") else Fernet(fernet_key.encode()).decrypt(encrypted.encode())
    return _plain(json.loads(text))


def _plain(value: Any) -> Any:
    """Strip Airflow's serde envelopes (``{"__var": ..., "__type": ...}`` and friends) from a value."""
    if isinstance(value, dict):
        for envelope in ("__var", "__data__"):
            if envelope in value and len(value) <= 3:
                return _plain(value[envelope])
        return {key: _plain(item) for key, item in value.items() if not key.startswith("__")}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


@dataclass(frozen=True)
class TriggerRow:
    trigger_id: int
    triggerer_id: int | None
    dag_id: str
    run_id: str
    task_id: str
    kwargs: dict[str, Any]


@dataclass
class AirflowDeployment(AirflowProcesses):
    """Airflow's components as Celery-executor subprocesses, and their PostgreSQL and Redis."""

    home: Path
    dags_folder: Path
    connection_json: str
    postgres: PostgresServer
    redis: RedisServer
    extra_env: dict[str, str] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    #: Each triggerer's Airflow job ids, one per start (a restarted triggerer is a new job).
    triggerer_jobs: dict[str, list[int]] = field(default_factory=dict)
    http: requests.Session = field(default_factory=loopback_http)

    def __post_init__(self) -> None:
        self.api_port = free_port()
        self.api_url = f"http://127.0.0.1:{self.api_port}"
        self.fernet_key = Fernet.generate_key().decode()
        self._log_ports = {name: free_port() for name in (*TRIGGERERS, *WORKERS)}
        self.env = self._environment()

    # -- configuration ----------------------------------------------------------------------

    def _environment(self) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW")}
        env.update(
            {
                "AIRFLOW_HOME": str(self.home),
                "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags_folder),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
                "AIRFLOW__CORE__PARALLELISM": "64",
                "AIRFLOW__CORE__FERNET_KEY": self.fernet_key,
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.api_url}/execution/",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": self.postgres.sqlalchemy_url,
                "AIRFLOW__CELERY__BROKER_URL": self.redis.url,
                "AIRFLOW__CELERY__RESULT_BACKEND": f"db+{self.postgres.sqlalchemy_url}",
                "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(WORKER_CONCURRENCY),
                "AIRFLOW__API__HOST": "127.0.0.1",
                "AIRFLOW__API__PORT": str(self.api_port),
                "AIRFLOW__API__BASE_URL": self.api_url,
                "AIRFLOW__API__WORKERS": "2",
                # Every component must sign and check the same tokens.
                "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
                "AIRFLOW__API__SECRET_KEY": secrets.token_hex(16),
                # High availability in seconds rather than minutes: a silent triggerer's triggers
                # are taken over after 10 s, a task whose worker died is failed (and retried) 30 s
                # after its last heartbeat.
                "AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC": "2",
                "AIRFLOW__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD": str(TRIGGERER_HEALTH_CHECK_THRESHOLD),
                "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "30",
                "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "5",
                # A worker killed after Celery handed it a task but before the task started leaves
                # that task "queued" (Celery acks late, and Redis hands the message on only after its
                # visibility timeout, a day): the scheduler requeues it after this many seconds
                # (600 by default), long enough for any task here to wait its turn for a slot.
                "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT": "120",
                "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT_CHECK_INTERVAL": "10",
                "AIRFLOW__LOGGING__COLORED_CONSOLE_LOG": "False",
                "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
                "AIRFLOW_CONN_CLOUDOS_DEFAULT": self.connection_json,
                "NO_PROXY": "127.0.0.1,localhost",
                "no_proxy": "127.0.0.1,localhost",
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(self.extra_env)
        return env

    # -- processes --------------------------------------------------------------------------

    def start(self, name: str) -> None:
        """Start one component by name (``scheduler``, ``triggerer-2``, ``worker-1``, ...)."""
        env = dict(self.env)
        if name == "api-server":
            arguments = ["api-server", "--host", "127.0.0.1", "--port", str(self.api_port)]
        elif name in ("scheduler", "dag-processor"):
            arguments = [name]
        elif name in TRIGGERERS:
            env["AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT"] = str(self._log_ports[name])
            known = set(self.triggerer_job_ids())
            arguments = ["triggerer"]
        elif name in WORKERS:
            env["AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT"] = str(self._log_ports[name])
            arguments = ["celery", "worker", "--celery-hostname", f"{name}@127.0.0.1",
                         "--concurrency", str(WORKER_CONCURRENCY),
                         "--without-mingle", "--without-gossip"]  # fmt: skip
        else:
            raise ValueError(f"unknown component {name!r}")
        self.spawn(name, arguments, env)
        if name in TRIGGERERS:
            # Learn the job id this triggerer runs as (to attribute its triggers and logs).
            job = wait_for(
                f"{name} to register its job",
                lambda: next(iter(set(self.triggerer_job_ids()) - known), None),
                START_TIMEOUT,
                0.5,
            )
            self.triggerer_jobs.setdefault(name, []).append(job)

    def kill(self, name: str) -> float:
        """``kill -9`` a component and everything it started; returns the wall-clock time of the kill."""
        process = self.processes.pop(name)
        tree = process_tree(process.pid)
        killed_at = time.time()
        for pid in tree:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        process.wait(STOP_TIMEOUT)
        return killed_at

    def stop(self, name: str) -> None:
        """A clean stop (SIGTERM, then SIGKILL after a grace period), as a service manager does."""
        stop_process_groups([self.processes.pop(name)])

    def stop_all(self, *names: str) -> None:
        """Stop these components, or every one when none is named, all at once: one shared grace
        period, so stopping several takes as long as the slowest."""
        stop_process_groups([self.processes.pop(name) for name in names or list(self.processes)])

    def restart_exited(self) -> list[str]:
        """Start again every component that exited, as a service manager (``Restart=always``) does;
        returns their names with the exit codes."""
        exited = {name: process.poll() for name, process in self.processes.items()}
        restarted = []
        for name, code in exited.items():
            if code is not None:
                self.processes.pop(name)
                self.start(name)
                restarted.append(f"{name} (exit {code})")
        return restarted

    def component_holding(self, pid: int) -> str | None:
        """Which of our components ``pid`` runs under (a task's process -> its Celery worker)."""
        chain = set(parent_chain(pid))
        return next((name for name, process in self.processes.items() if process.pid in chain), None)

    def diagnostics(self) -> str:
        names = ("scheduler", *TRIGGERERS, *WORKERS)
        return "\n".join(f"--- {name} ---\n{self.tail(name, 20)}" for name in names)

    # -- REST API ---------------------------------------------------------------------------

    def task_instance(self, dag_id: str, run_id: str, task_id: str) -> dict[str, Any]:
        quoted = urllib.parse.quote(run_id, safe="")
        return dict(self.api("GET", f"/dags/{dag_id}/dagRuns/{quoted}/taskInstances/{task_id}"))

    def mark_failed(self, dag_id: str, run_id: str, task_id: str) -> None:
        """What a user does in the UI: mark one task instance failed (its downstreams stay as they are)."""
        quoted = urllib.parse.quote(run_id, safe="")
        self.api(
            "PATCH",
            f"/dags/{dag_id}/dagRuns/{quoted}/taskInstances/{task_id}",
            {"new_state": "failed", "include_upstream": False, "include_downstream": False},
        )

    # -- metadata database (read-only) --------------------------------------------------------

    @contextlib.contextmanager
    def _db(self) -> Iterator[Any]:
        connection = psycopg2.connect(self.postgres.dsn)
        try:
            with connection.cursor() as cursor:
                yield cursor
        finally:
            connection.close()

    def triggerer_job_ids(self) -> list[int]:
        with self._db() as cursor:
            cursor.execute("SELECT id FROM job WHERE job_type = 'TriggererJob' AND state = 'running'")
            return [row[0] for row in cursor.fetchall()]

    def trigger_holders(self) -> dict[int, int | None]:
        """Each trigger's id and the job id of the triggerer holding it (None: nobody yet)."""
        with self._db() as cursor:
            cursor.execute("SELECT id, triggerer_id FROM trigger")
            return dict(cursor.fetchall())

    def triggers(self) -> list[TriggerRow]:
        """Every trigger a task instance waits on, with the triggerer that holds it and its kwargs."""
        with self._db() as cursor:
            cursor.execute(
                "SELECT t.id, t.triggerer_id, ti.dag_id, ti.run_id, ti.task_id, t.kwargs"
                " FROM trigger t JOIN task_instance ti ON ti.trigger_id = t.id"
            )
            rows = cursor.fetchall()
        return [
            TriggerRow(row[0], row[1], row[2], row[3], row[4], decode_trigger_kwargs(row[5], self.fernet_key))
            for row in rows
        ]

    def trigger_classpaths(self) -> dict[tuple[str, str], str]:
        """The classpath each waiting task's trigger row names, by (run id, task id): what the version
        that deferred wrote, and what any later version's triggerer must import."""
        with self._db() as cursor:
            cursor.execute(
                "SELECT ti.run_id, ti.task_id, t.classpath"
                " FROM trigger t JOIN task_instance ti ON ti.trigger_id = t.id"
            )
            return {(run_id, task_id): classpath for run_id, task_id, classpath in cursor.fetchall()}

    def triggerer_named(self, job_id: int | None) -> str | None:
        return next((name for name, jobs in self.triggerer_jobs.items() if job_id in jobs), None)


@contextlib.contextmanager
def started_deployment(
    workdir: Path,
    connection_json: str,
    dag_ids: Collection[str] = (LIFECYCLE, CREATE_AND_WAIT),
    extra_env: dict[str, str] | None = None,
    components: Collection[str] = COMPONENTS,
) -> Iterator[AirflowDeployment]:
    """PostgreSQL, Redis and Airflow's ``components`` started, ``dag_ids`` parsed from ``dags/``; all
    stopped at the end. A failed wait shows the components' last lines."""
    postgres = PostgresServer(workdir / "postgres")
    redis = RedisServer(workdir / "redis")
    home = workdir / "airflow-home"
    home.mkdir()
    airflow = AirflowDeployment(home, DAGS, connection_json, postgres, redis, extra_env=dict(extra_env or {}))
    try:
        postgres.start()
        redis.start()
        airflow.run("db", "migrate")
        for name in components:
            airflow.start(name)
        wait_for("the API server to answer", airflow.healthy, START_TIMEOUT)
        wait_for("the DAGs to be parsed", lambda: airflow.parsed_dags(set(dag_ids)), PARSE_TIMEOUT, 2)
        yield airflow
    except AssertionError as error:
        raise AssertionError(f"{error}\n{airflow.diagnostics()}") from None
    finally:
        airflow.stop_all()
        redis.stop()
        postgres.stop()
