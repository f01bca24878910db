"""Running example DAGs with the real ``airflow`` command against the simulator, for the tests here.

Each run is a subprocess of the Python running the tests, with an Airflow home of its own and
only the Airflow settings set here (``demo.airflow_environment`` drops the rest), in its own
process group that is killed when the run ends or overruns its bound.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import airflow
from packaging.version import Version

from airflow_provider_cloudos.core.status import LIVE_STATUSES, map_status
from airflow_provider_cloudos.testing import CloudOSSimulator, ManualClock, StateTimings
from airflow_provider_cloudos.testing.demo import airflow_environment, run_airflow

EXAMPLE_DAGS = Path(__file__).resolve().parents[2] / "example_dags"
#: Every DAG the example files define; each one is run by a test in test_example_dags_run.py.
EXAMPLE_DAG_IDS = frozenset(
    {
        "example_cloudos_pipeline",
        "example_cloudos_on_demand",
        "example_cloudos_working_hours_resume",
        "example_cloudos_working_hours_pause",
        "example_cloudos_nightly_cleanup",
        "example_cloudos_session_block",
        "example_cloudos_analyst_session",
        "example_cloudos_results_producer",
        "example_cloudos_results_pipeline",
    }
)
#: Each state lasts a second of the simulator's clock, which only moves in steps (see dags_test).
STEP_TIMINGS = StateTimings(scheduled=1.0, setup=1.0, initialising=1.0, aborting=1.0, resume_initialising=1.0)
#: How far the clock jumps when a task has deferred: past any transition, far from any shutdown.
CLOCK_STEP_SECONDS = 60.0
#: A generous bound for one ``airflow dags test`` (about 10-20 s here); it only stops a hang.
DAG_TEST_TIMEOUT_SECONDS = 240.0
TRIGGER_RAN_INLINE = "[DAG TEST] running trigger in line"
#: Airflow 3.0.x prints a failed task's exception with rich, wrapped at the terminal's width (80
#: columns when the output is a pipe): a long message such as a guard's reason would be cut in
#: two. A width beyond every message the tests look for keeps each on one line, as 3.1+ and 2.11
#: print it (rich pads its panels to the width, so not wider than needed).
WIDE_TERMINAL = {"COLUMNS": "400"}
_DAG_RUN_FINISHED = re.compile(r"DagRun Finished: .*?, state=(\w+)")


@dataclass(frozen=True)
class AirflowRun:
    command: tuple[str, ...]
    code: int
    output: str
    seconds: float

    @property
    def dag_run_state(self) -> str | None:
        """The DAG run's final state as Airflow logs it (``airflow dags test`` exits 0 either way)."""
        found = _DAG_RUN_FINISHED.findall(self.output)
        return found[-1] if found else None

    def tail(self, lines: int = 80) -> str:
        """The end of the output, for assertion messages."""
        shown = "\n".join(self.output.splitlines()[-lines:])
        return f"airflow {' '.join(self.command)} exited {self.code} after {self.seconds:.1f}s:\n{shown}"


def run_airflow_cli(
    arguments: list[str],
    env: Mapping[str, str],
    timeout: float = DAG_TEST_TIMEOUT_SECONDS,
    on_line: Callable[[str], None] | None = None,
) -> AirflowRun:
    lines: list[str] = []

    def collect(line: str) -> None:
        lines.append(line)
        if on_line is not None:
            on_line(line)

    started = time.monotonic()
    code = run_airflow(arguments, env, collect, timeout)
    return AirflowRun(tuple(arguments), code, "".join(lines), time.monotonic() - started)


def dags_test(
    home: Path,
    simulator: CloudOSSimulator,
    clock: ManualClock,
    dag_id: str,
    conf: dict[str, Any] | None = None,
    extra_env: Mapping[str, str] | None = None,
    dags_folder: Path = EXAMPLE_DAGS,
    on_line: Callable[[str], None] | None = None,
) -> AirflowRun:
    """``airflow dags test DAG_ID [--conf JSON]`` with ``cloudos_default`` pointing at ``simulator``.

    The simulator runs on ``clock``, which moves only when Airflow says it runs a deferred task's
    trigger: until then every session stays in the state the task saw, so each wait is certain
    to defer, and once the trigger runs the session moves on. No run depends on timing.
    """
    env = airflow_environment(home, dags_folder, simulator.connection_json())
    env.update(WIDE_TERMINAL)
    env.update(extra_env or {})
    arguments = ["dags", "test", dag_id]
    if conf is not None:
        arguments += ["--conf", json.dumps(conf)]

    def release_sessions_once_deferred(line: str) -> None:
        if TRIGGER_RAN_INLINE in line:
            clock.advance(CLOCK_STEP_SECONDS)
        if on_line is not None:
            on_line(line)

    return run_airflow_cli(arguments, env, on_line=release_sessions_once_deferred)


def live_sessions(simulator: CloudOSSimulator) -> list[str]:
    """Sessions still starting, running or stopping (so still billing), described for messages."""
    return [
        f"{session['_id']} {session.get('name')!r} is {map_status(session.get('status'))}"
        for session in simulator.sessions()
        if map_status(session.get("status")) in LIVE_STATUSES
    ]


#: Airflow 3.0.x's in-process supervisor (``airflow dags test``) logs each request a task sends it
#: at debug level with its body, so the request that asks Airflow to mask the API key prints the
#: key in Airflow's own line: ``Sending request msg=MaskSecret(value='...')``. Fixed in 3.1.
AIRFLOW_LOGS_MASK_REQUESTS = Version(airflow.__version__).release[:2] == (3, 0)


def is_airflow_mask_request_line(line: str) -> bool:
    """Airflow 3.0.x's own debug line for a mask request (the known upstream leak, see above)."""
    return "Sending request" in line and "MaskSecret(value=" in line


def lines_showing(secret: str, output: str) -> list[str]:
    """The output lines that show ``secret``, leaving out only Airflow 3.0.x's known own line."""
    return [
        line
        for line in output.splitlines()
        if secret in line and not (AIRFLOW_LOGS_MASK_REQUESTS and is_airflow_mask_request_line(line))
    ]
