"""PostgreSQL and Redis servers for one test run: Debian's binaries, a temporary directory, loopback.

Both listen on 127.0.0.1 on a free port and keep every file in the directory they are given, so
stopping them and removing that directory leaves nothing behind. PostgreSQL refuses to run as
root: when the test runs as root (CI does), the cluster directory is handed to the ``postgres``
user that Debian's package creates, and every server command runs as that user via ``runuser``.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

#: Where Debian's ``postgresql`` package puts the server binaries (one folder per major version).
POSTGRES_ROOT = Path("/usr/lib/postgresql")
DB_USER = "airflow"
DB_NAME = "airflow"
START_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _accepts_connections(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(1.0)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def wait_until_listening(what: str, port: int, timeout: float = START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not _accepts_connections(port):
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not listen on 127.0.0.1:{port} within {timeout:.0f}s")
        time.sleep(0.2)


def postgres_bin() -> Path:
    """The newest installed PostgreSQL's ``bin`` folder; a clear error when there is none."""
    versions = sorted(
        (p for p in POSTGRES_ROOT.glob("*/bin") if (p / "initdb").exists()),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    if not versions:
        raise RuntimeError(
            f"no PostgreSQL server under {POSTGRES_ROOT}: install Debian's package "
            "(apt-get install postgresql), as scripts/deployment-test.sh does"
        )
    return versions[-1]


@dataclass
class PostgresServer:
    """A throwaway PostgreSQL cluster with one database (``airflow``) its user owns, no password."""

    directory: Path
    port: int = 0

    def __post_init__(self) -> None:
        self.port = self.port or free_port()
        self.data = self.directory / "data"
        self._as_postgres = os.geteuid() == 0

    @property
    def sqlalchemy_url(self) -> str:
        return f"postgresql+psycopg2://{DB_USER}@127.0.0.1:{self.port}/{DB_NAME}"

    @property
    def dsn(self) -> str:
        return f"host=127.0.0.1 port={self.port} user={DB_USER} dbname={DB_NAME}"

    def _run(self, *command: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if self._as_postgres else []
        result = subprocess.run(
            [*prefix, *command], capture_output=True, text=True, timeout=START_TIMEOUT, check=False
        )
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")

    def start(self) -> PostgresServer:
        binaries = postgres_bin()
        self.directory.mkdir(parents=True, exist_ok=True)
        if self._as_postgres:
            account = pwd.getpwnam("postgres")
            os.chown(self.directory, account.pw_uid, account.pw_gid)
        self._run(str(binaries / "initdb"), "-D", str(self.data), "-A", "trust", "-U", DB_USER, "-E", "UTF8")
        self._start_server()
        self._run(str(binaries / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", DB_USER, DB_NAME)
        return self

    def _start_server(self) -> None:
        # The server's output goes to its log file: were it inherited, a pipe read by _run would
        # never close.
        options = (
            f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 "
            "-c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run(
            str(postgres_bin() / "pg_ctl"), "-D", str(self.data), "-o", options,
            "-l", str(self.directory / "server.log"), "-w", "start",
        )  # fmt: skip

    def restart(self) -> float:
        """Stop (``-m fast``: sessions are disconnected) and start again on the same port, as
        ``systemctl restart postgresql`` does; returns how many seconds it was down."""
        started = time.monotonic()
        self._run(str(postgres_bin() / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")
        self._start_server()
        return round(time.monotonic() - started, 1)

    def stop(self) -> None:
        if not (self.data / "postmaster.pid").exists():
            return
        with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
            self._run(str(postgres_bin() / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")


@dataclass
class RedisServer:
    """A Redis server for the Celery broker: no persistence, loopback only."""

    directory: Path
    port: int = 0

    def __post_init__(self) -> None:
        self.port = self.port or free_port()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError(
                "no redis-server on PATH: install Debian's package (apt-get install redis-server), "
                "as scripts/deployment-test.sh does"
            )
        self.directory.mkdir(parents=True, exist_ok=True)
        with (self.directory / "redis.log").open("ab") as log:
            self._process = subprocess.Popen(
                [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                 "--dir", str(self.directory)],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        wait_until_listening("redis-server", self.port)
        return self

    def restart(self) -> float:
        """A service restart: ``SHUTDOWN SAVE`` (Redis writes its data, as a default configuration's
        save points make it do on SIGTERM), then start on the same port, loading what it wrote
        (Celery's queued messages included); returns how many seconds it was down."""
        assert self._process is not None, "redis-server is not running"
        started = time.monotonic()
        subprocess.run(
            ["redis-cli", "-h", "127.0.0.1", "-p", str(self.port), "shutdown", "save"],
            capture_output=True, timeout=START_TIMEOUT, check=False,
        )  # fmt: skip
        self._process.wait(START_TIMEOUT)
        self._process = None
        self.start()
        return round(time.monotonic() - started, 1)

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(10)
        self._process = None
