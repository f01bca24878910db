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
import threading
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
from soak_checks import adoption_seconds

from airflow_provider_cloudos.testing import CloudOSSimulator, ManualClock, StateTimings

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
#: Seconds after a running task's last heartbeat before the scheduler fails it (and retries it).
TASK_HEARTBEAT_TIMEOUT = 30
#: The soak DAGs (``dags/cloudos_soak.py``) every deployment test runs.
DAGS = Path(__file__).resolve().parent / "dags"
LIFECYCLE = "cloudos_soak_lifecycle"
CREATE_AND_WAIT = "cloudos_soak_create_and_wait"
#: The simulator's key: a test checks it appears in no log, trigger row or process output.
API_KEY = "soak-secret-" + "9f3c2a7e5b1d4c6f8a0e"
#: How long a simulated session spends in each state before running (on the simulator's clock).
TIMINGS = StateTimings(scheduled=2.0, setup=2.0, initialising=2.0, aborting=2.0, resume_initialising=2.0)


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
                "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": str(TASK_HEARTBEAT_TIMEOUT),
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

    def freeze(self, name: str) -> float:
        """``SIGSTOP`` a component and everything it started (a stalled VM, a process swapped out):
        it holds its sockets and its database rows but runs nothing; returns the wall-clock time."""
        return self._signal_tree(name, signal.SIGSTOP)

    def thaw(self, name: str) -> float:
        """``SIGCONT`` what :meth:`freeze` stopped; returns the wall-clock time."""
        return self._signal_tree(name, signal.SIGCONT)

    def _signal_tree(self, name: str, signum: int) -> float:
        at = time.time()
        for pid in process_tree(self.processes[name].pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)
        return at

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


# -- the simulator's side --------------------------------------------------------------------------


class ClockTicker:
    """Moves the simulator's manual clock one second per second while running, from a thread."""

    def __init__(self, clock: ManualClock) -> None:
        self._clock = clock
        self._running = threading.Event()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._tick, name="soak-clock", daemon=True)
        self._thread.start()

    def _tick(self) -> None:
        while not self._done.wait(0.5):
            if self._running.is_set():
                self._clock.advance(0.5)

    def run(self) -> None:
        self._running.set()

    def hold(self) -> None:
        self._running.clear()

    def close(self) -> None:
        self._done.set()
        self._thread.join(5)


def session_by_name(simulator: CloudOSSimulator) -> dict[str, list[dict[str, Any]]]:
    """Every session the simulator holds, by name (a run's sessions share its name)."""
    by_name: dict[str, list[dict[str, Any]]] = {}
    for session in simulator.sessions():
        by_name.setdefault(str(session.get("name")), []).append(session)
    return by_name


def session_name(dag_id: str, run_id: str) -> str:
    """The name the soak DAGs give a run's session."""
    return f"{dag_id}-{run_id}"


def requests_about(simulator: CloudOSSimulator, session_id: str) -> list[float]:
    """When the session was polled or paused (wall clock), oldest first."""
    counters = simulator.counters
    return sorted([*counters.request_times("get", session_id), *counters.request_times("abort", session_id)])


def wait_until_polled(
    simulator: CloudOSSimulator, sessions: set[str], since: float, what: str
) -> dict[str, float]:
    """Wait until each session has had a request after ``since`` (a triggerer killed or frozen
    then: the other sent it, so it took the wait over); seconds from ``since`` to each one's first.

    The trigger table's ``triggerer_id`` is not evidence: a row can move without the wait running.
    """

    def polled() -> dict[str, float] | None:
        polls = {session: requests_about(simulator, session) for session in sessions}
        try:
            return adoption_seconds(since, polls)
        except AssertionError:
            return None

    return wait_for(what, polled, TRIGGERER_HEALTH_CHECK_THRESHOLD + 120, 0.25)
