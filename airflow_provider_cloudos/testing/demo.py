"""The demo (``python -m airflow_provider_cloudos.demo``): the example pipeline DAG, run by Airflow.

What a new user wants to see before reading any code: a session created, waited for in
Airflow's triggerer code path, used, and paused again, with every state change and the
session's URL. So the demo starts the local CloudOS simulator (in a thread of this process),
makes a throwaway Airflow home (a temporary directory, SQLite), migrates its database, points the
``cloudos_default`` connection at the simulator through ``AIRFLOW_CONN_CLOUDOS_DEFAULT``, and runs
``airflow dags test example_cloudos_pipeline`` (which runs deferred triggers inline). Airflow's
own output is long; the demo prints the story (tasks, state changes, URLs) and keeps the full
log, which it shows the end of if anything fails. It exits non-zero when the run fails or a
session is left running, and removes the temporary home either way.

This module imports nothing from Airflow: Airflow runs in a subprocess, with the same Python.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

from airflow_provider_cloudos.core.status import LIVE_STATUSES, map_status
from airflow_provider_cloudos.testing.simulator import (
    SIMULATOR_POLL_SECONDS,
    CloudOSSimulator,
    add_timings_argument,
)
from airflow_provider_cloudos.testing.timings import NAMED_TIMINGS

PIPELINE_DAG_ID = "example_cloudos_pipeline"
#: Where the example DAGs live in a checkout (the demo runs from an editable install).
DEFAULT_DAGS_FOLDER = Path(__file__).resolve().parents[2] / "example_dags"
MIGRATE_TIMEOUT_SECONDS = 180.0
DAG_TEST_TIMEOUT_SECONDS = 300.0
#: Lines of the full Airflow log shown when a step fails.
FAILURE_TAIL_LINES = 60

# Airflow 3 (structlog): 2026-11-26T08:17:39.272301Z [info     ] message [logger.name] key=value ...
_TIMESTAMPED = re.compile(r"^\d{4}-\d\d-\d\dT\S+ \[(?P<level>\w+)\s*\]")
_STRUCTLOG_LINE = re.compile(
    r"^\S+ \[(?P<level>\w+)\s*\] (?P<message>.*?) \[(?P<logger>[\w.]+)\](?P<rest>.*)$"
)
# Airflow 2: [2026-11-26T08:38:08.383+0000] {sessions.py:778} INFO - message
_CLASSIC_LINE = re.compile(r"^\[[^\]]+\] \{(?P<logger>[^}:]+):\d+\} (?P<level>[A-Z]+) - (?P<message>.*)$")
_NEW_STATE = re.compile(r"\bnew_state=(?P<state>\w+)")
_STARTING_TASK = re.compile(r"^\[DAG TEST\] starting task_id=(?P<task>\S+)")
_RUN_FINISHED = re.compile(r"^DagRun Finished: dag_id=(?P<dag>[^,]+),.*?\bstate=(?P<state>\w+)")
_CLASSIC_TASK_STATE = re.compile(
    r"^(?:Marking task as (?P<final>[A-Z_]+)\.|Pausing task as (?P<paused>DEFERRED)\.)"
)
#: A session URL ending a message: "... (URL)" or "...: URL".
_TRAILING_URL = re.compile(r"(?: \((?P<quoted>https?://\S+)\)|: (?P<plain>https?://\S+))$")
_PROVIDER_LOGGERS = ("airflow_provider_cloudos", "airflow.task.operators.airflow_provider_cloudos")
#: On Airflow 2 a record names its file, not its logger: the provider's modules that log.
_PROVIDER_FILES = frozenset({"sessions.py", "cloudos_task.py", "fleet.py", "block.py", "cloudos.py"})


class StoryFilter:
    """Turns Airflow's console output into the few lines that tell the story, or None to drop.

    Keeps: each task start and the state it ends in (including ``deferred``, when the wait moves
    to the trigger), the provider's own log lines (state changes, URLs, pauses), what tasks print,
    errors, and the DAG run's final state. A session URL is shown in full the first time and then
    dropped from the end of repeated state-change lines, so the output stays readable. Reads
    Airflow 3's console format, and Airflow 2's (whose records it also de-duplicates).
    """

    def __init__(self) -> None:
        self.task: str | None = None
        self.run_state: str | None = None
        self._urls_seen: set[str] = set()
        #: Inside a multi-line record we drop (e.g. a warning whose text spans lines).
        self._skipping = False
        self._last_shown: str | None = None

    def __call__(self, raw: str) -> str | None:
        shown = self._story(raw.rstrip("\n"))
        if shown is not None and shown == self._last_shown and not shown.startswith("> "):
            return None  # Airflow 2 prints task records twice
        self._last_shown = shown if shown is not None else self._last_shown
        return shown

    def _story(self, line: str) -> str | None:
        if not line.strip():
            return None
        if classic := _CLASSIC_LINE.match(line):
            self._skipping = False
            return self._record(classic["level"].lower(), classic["message"], classic["logger"], "")
        if (timestamped := _TIMESTAMPED.match(line)) is None:
            # Not a log record: what a task printed, or a traceback; both matter to the user,
            # unless it continues a record that was dropped.
            return None if self._skipping else f"    {self._shorten(line)}"
        self._skipping = False
        if (match := _STRUCTLOG_LINE.match(line)) is None:
            if timestamped["level"] in ("error", "critical"):
                return f"  ERROR {line[timestamped.end() :].strip()}"
            self._skipping = True
            return None
        return self._record(match["level"], match["message"], match["logger"], match["rest"])

    def _record(self, level: str, message: str, logger: str, rest: str) -> str | None:
        if starting := _STARTING_TASK.match(message):
            self.task = starting["task"]
            return f"> task {self.task}"
        if message.startswith("[DAG TEST] running trigger in line"):
            return f"  {self.task}: trigger running inline (Airflow's triggerer code path)"
        if finished := _RUN_FINISHED.match(message):
            self.run_state = finished["state"]
            return f"DAG run {finished['dag']}: {self.run_state}"
        if message.startswith("Task instance state updated"):
            new_state = _NEW_STATE.search(rest)
            return f"  {self.task}: {new_state['state']}" if new_state and self.task else None
        if logger in _PROVIDER_FILES or logger.startswith(_PROVIDER_LOGGERS):
            return f"    {self._shorten(message)}"
        if not rest and self.task and (classic_state := _CLASSIC_TASK_STATE.match(message)):
            return f"  {self.task}: {(classic_state['final'] or classic_state['paused']).lower()}"
        if level in ("error", "critical", "exception"):
            return f"  ERROR {message}"
        return None

    def _shorten(self, text: str) -> str:
        if (found := _TRAILING_URL.search(text)) is None:
            return text
        url = found["quoted"] or found["plain"]
        if url in self._urls_seen:
            return text[: found.start()]
        self._urls_seen.add(url)
        return text


def find_dags_folder(explicit: str | None) -> Path:
    """The DAGs folder: ``--dags-folder`` (any folder of DAG files), else the checkout's examples."""
    if not explicit:
        if not (DEFAULT_DAGS_FOLDER / f"{PIPELINE_DAG_ID}.py").is_file():
            raise SystemExit(
                f"error: no example DAGs in {DEFAULT_DAGS_FOLDER}; run the demo from a checkout of the "
                "project (make demo) or pass --dags-folder with your own DAG files (and --dag-id)"
            )
        return DEFAULT_DAGS_FOLDER
    folder = Path(explicit).expanduser().resolve()
    if not folder.is_dir():
        raise SystemExit(f"error: --dags-folder {explicit!r} is not a folder ({folder})")
    return folder


class DagIds(NamedTuple):
    """The ids found, and whether every DAG definition seen had an id that could be read."""

    ids: frozenset[str]
    complete: bool


def _name(node: ast.expr) -> str | None:
    """``DAG`` for ``DAG``, ``models.DAG`` or ``airflow.sdk.DAG``; None for anything else."""
    return getattr(node, "id", None) or getattr(node, "attr", None)  # a Name's id, an Attribute's attr


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((keyword.value for keyword in call.keywords if keyword.arg == name), None)


def _declared(tree: ast.Module) -> Iterator[str | None]:
    """The DAG ids one parsed file declares; None for each id that cannot be read."""
    # Module-level ``NAME = "text"`` (and annotated) assignments: how DAG ids are often named.
    constants: dict[str, str] = {}
    for statement in tree.body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target, value = statement.targets[0], statement.value
        elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
            target, value = statement.target, statement.value
        else:
            continue
        if isinstance(target, ast.Name) and isinstance(value, ast.Constant) and isinstance(value.value, str):
            constants[target.id] = value.value

    def text(node: ast.expr | None) -> str | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        return constants.get(node.id) if isinstance(node, ast.Name) else None

    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _name(node.func) == "DAG":
            yield text(_keyword(node, "dag_id") or (node.args[0] if node.args else None))
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for decorator in node.decorator_list:
                if _name(decorator.func if isinstance(decorator, ast.Call) else decorator) == "dag":
                    given = _keyword(decorator, "dag_id") if isinstance(decorator, ast.Call) else None
                    yield node.name if given is None else text(given)
                    break


def dag_ids_in(folder: Path) -> DagIds:
    """Every DAG id declared by the files Airflow would parse in ``folder`` (see :func:`check_dag_id`).

    Hidden folders and caches are skipped and, like Airflow's safe mode, only files that mention
    both "airflow" and "dag" are read.
    """
    ids: set[str | None] = set()
    for path in sorted(folder.rglob("*.py")):
        if any(part.startswith(".") or part == "__pycache__" for part in path.relative_to(folder).parts):
            continue
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        if "airflow" not in text.lower() or "dag" not in text.lower():
            continue
        try:
            ids.update(_declared(ast.parse(text, filename=str(path))))
        except (SyntaxError, ValueError):
            ids.add(None)  # Airflow will report the file; its DAGs cannot be known here
    return DagIds(frozenset(found for found in ids if found is not None), None not in ids)


def check_dag_id(dag_id: str, dags_folder: Path) -> None:
    """Refuse at once a ``--dag-id`` the folder certainly lacks, naming the DAGs it has.

    Runs before the simulator starts and Airflow's database is migrated (seconds), so a typo
    costs nothing, and it names the DAGs there, which Airflow's "not found" would not. The ids are
    read from the files' syntax trees, without running them or importing Airflow:
    ``DAG(dag_id=...)`` or ``DAG("...")`` (also ``with DAG(...)`` and ``models.DAG(...)``) and
    ``@dag``-decorated functions (their ``dag_id=``, else their name), where the id is a string or
    a module-level string constant. When an id is built at run time (an f-string, a loop), it
    cannot be read: the folder's ids are then incomplete, and Airflow decides.
    """
    found = dag_ids_in(dags_folder)
    if not found.complete or dag_id in found.ids:
        return
    listed = ", ".join(sorted(found.ids)) or "none"
    raise SystemExit(
        f"error: no DAG with the id {dag_id!r} in {dags_folder}. The DAG ids there: {listed}. "
        "Pass one of them with --dag-id, or another folder with --dags-folder"
    )


def airflow_environment(
    home: Path, dags_folder: Path, connection: str | None, base: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The environment for a throwaway Airflow: only what the demo sets, nothing from the caller's.

    Airflow settings inherited from the shell (``AIRFLOW__*``, ``AIRFLOW_CONN_*``...) are dropped
    so that the demo behaves the same on every machine. ``connection`` is the ``cloudos_default``
    connection (Airflow's JSON form); None leaves it unset.
    """
    inherited = os.environ if base is None else base
    loopback = "127.0.0.1,localhost"
    env = {key: value for key, value in inherited.items() if not key.startswith("AIRFLOW")} | {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__LOGGING__COLORED_CONSOLE_LOG": "False",
        # Airflow 2.11 warns on its first metrics import until this is on; 3.x ignores it.
        "AIRFLOW__METRICS__TIMER_UNIT_CONSISTENCY": "True",
        "NO_PROXY": loopback,
        "no_proxy": loopback,
        "PYTHONUNBUFFERED": "1",
    }
    if connection is not None:
        env["AIRFLOW_CONN_CLOUDOS_DEFAULT"] = connection
    return env


def run_airflow(
    arguments: Sequence[str],
    env: Mapping[str, str],
    on_line: Callable[[str], object],
    timeout: float,
) -> int:
    """Run ``python -m airflow ARGS`` in its own process group, passing each output line on.

    The whole group is killed on timeout or interruption, so no Airflow process outlives the demo.
    """
    process = subprocess.Popen(
        [sys.executable, "-m", "airflow", *arguments],
        env=dict(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        encoding="utf-8",
        errors="replace",
        start_new_session=True,
    )
    started = time.monotonic()
    watchdog = threading.Timer(timeout, _kill_group, [process])
    watchdog.start()
    try:
        assert process.stdout is not None
        for line in process.stdout:
            on_line(line)
        code = process.wait()
    finally:
        watchdog.cancel()
        _kill_group(process)
    if time.monotonic() - started >= timeout:  # the watchdog stopped it
        on_line(f"airflow {' '.join(arguments)} did not finish within {timeout:.0f}s and was stopped\n")
        return 124
    return code


def _kill_group(process: subprocess.Popen[str]) -> None:
    """SIGKILL the whole group: the leader if it still runs, and anything it left behind."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


class _Console:
    """Prints story lines with the time since the demo started; keeps every raw line in a log."""

    def __init__(self, verbose: bool) -> None:
        self.started = time.monotonic()
        self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115 (kept on failure, removed by main)
            "w", encoding="utf-8", prefix="cloudos-demo-", suffix=".log", delete=False
        )
        self.verbose = verbose
        self.story = StoryFilter()

    def say(self, text: str) -> None:
        print(f"{time.monotonic() - self.started:5.1f}s  {text}", flush=True)

    def airflow_line(self, raw: str) -> None:
        self.log.write(raw)
        if self.verbose:
            print(raw, end="", flush=True)
        elif (shown := self.story(raw)) is not None:
            self.say(shown)

    def failed(self, command: str, code: int) -> int:
        """Say that ``command`` failed and show the end of Airflow's output; the demo's exit code."""
        self.say(f"{command} failed (exit code {code})")
        self.log.flush()
        lines = Path(self.log.name).read_text(encoding="utf-8", errors="replace").splitlines()
        print(f"--- last {FAILURE_TAIL_LINES} lines of Airflow's output (full log: {self.log.name}) ---")
        for line in lines[-FAILURE_TAIL_LINES:]:
            print(line)
        return 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m airflow_provider_cloudos.demo",
        description="Run the example pipeline DAG with Airflow against a local CloudOS simulator.",
    )
    parser.add_argument(
        "--dags-folder",
        help="a folder of DAG files, yours or the examples (default: the checkout's example_dags/)",
    )
    parser.add_argument(
        "--dag-id",
        default=PIPELINE_DAG_ID,
        help=f"DAG to run, checked against the DAG files before anything starts (default {PIPELINE_DAG_ID})",
    )
    add_timings_argument(parser, "simulated ")
    parser.add_argument("--verbose", action="store_true", help="print all of Airflow's output")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    dags_folder = find_dags_folder(args.dags_folder)
    check_dag_id(args.dag_id, dags_folder)
    console = _Console(args.verbose)
    try:
        with (
            tempfile.TemporaryDirectory(prefix="cloudos-demo-airflow-home-") as home,
            CloudOSSimulator(timings=NAMED_TIMINGS[args.timings]()) as simulator,
        ):
            print(f"CloudOS simulator  {simulator.url} (project {simulator.project_name!r})")
            print(f"Airflow home       {home} (temporary)")
            print(f"DAGs folder        {dags_folder}")
            connection = simulator.connection_json(poll_interval=SIMULATOR_POLL_SECONDS)
            env = airflow_environment(Path(home), dags_folder, connection)
            console.say("airflow db migrate")
            code = run_airflow(["db", "migrate"], env, console.log.write, MIGRATE_TIMEOUT_SECONDS)
            if code != 0:
                return console.failed("airflow db migrate", code)
            console.say(f"airflow dags test {args.dag_id}")
            code = run_airflow(
                ["dags", "test", args.dag_id], env, console.airflow_line, DAG_TEST_TIMEOUT_SECONDS
            )
            leaked = [
                f"{session['_id']} ({session.get('name')}: {map_status(session.get('status'))})"
                for session in simulator.sessions()
                if map_status(session.get("status")) in LIVE_STATUSES
            ]
            created = len(simulator.sessions())
        if code != 0 or console.story.run_state not in (None, "success"):
            return console.failed("airflow dags test", code)
        if leaked:
            console.say(f"FAILED: session(s) left running: {', '.join(leaked)}")
            return 1
        console.say(f"Simulator stopped: {created} session(s) created, none left running.")
        console.say("Demo finished green.")
        console.log.close()
        Path(console.log.name).unlink()  # nothing to look at
        return 0
    except KeyboardInterrupt:
        print("\ninterrupted; Airflow and the simulator were stopped", file=sys.stderr)
        return 130
    finally:
        console.log.close()
        if Path(console.log.name).exists():
            print(f"Full Airflow log kept at {console.log.name}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
