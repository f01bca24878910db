"""Start and drive ``bench.sim_server`` from a benchmark (see that module for the commands)."""

from __future__ import annotations

import json
import subprocess
import sys
from types import TracebackType
from typing import Any

from bench.common import REPO_ROOT, bench_environment


class SimulatorProcess:
    """The simulator in a child process; a context manager that always stops it."""

    def __init__(
        self,
        *,
        scheduled: float = 0.05,
        setup: float = 0.05,
        initialising: float = 0.05,
        aborting: float = 0.05,
        resume_initialising: float = 0.05,
        backlog: int = 4096,
    ) -> None:
        self._args = [
            sys.executable,
            "-m",
            "bench.sim_server",
            f"--scheduled={scheduled}",
            f"--setup={setup}",
            f"--initialising={initialising}",
            f"--aborting={aborting}",
            f"--resume-initialising={resume_initialising}",
            f"--backlog={backlog}",
        ]
        self._process: subprocess.Popen[str] | None = None
        self.info: dict[str, Any] = {}

    def __enter__(self) -> SimulatorProcess:
        self._process = subprocess.Popen(
            self._args,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=REPO_ROOT,
            env=bench_environment(),
        )
        self.info = self._read()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        process = self._process
        if process is None:
            return
        try:
            if process.poll() is None:
                self.command("stop")
                process.wait(timeout=15)
        except (OSError, ValueError, subprocess.TimeoutExpired, RuntimeError):
            process.kill()
            process.wait()
        finally:
            self._process = None

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    @property
    def url(self) -> str:
        return str(self.info["url"])

    @property
    def connection(self) -> str:
        return str(self.info["connection"])

    @property
    def workspace_id(self) -> str:
        return str(self.info["workspace_id"])

    def _read(self) -> dict[str, Any]:
        assert self._process is not None
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line:
            raise RuntimeError("the simulator process exited")
        answer: dict[str, Any] = json.loads(line)
        if "error" in answer:
            raise RuntimeError(f"simulator: {answer['error']}")
        return answer

    def command(self, command: str, **arguments: Any) -> dict[str, Any]:
        assert self._process is not None
        assert self._process.stdin is not None
        self._process.stdin.write(json.dumps({"cmd": command, **arguments}) + "\n")
        self._process.stdin.flush()
        return self._read()

    def add(self, n: int, status: str = "scheduled", name: str = "bench") -> list[str]:
        return list(self.command("add", n=n, status=status, name=name)["ids"])

    def reset(self) -> None:
        self.command("reset")

    def counters(self) -> dict[str, Any]:
        return self.command("counters")

    def usage(self) -> dict[str, Any]:
        return self.command("usage")
