"""``python -m airflow_provider_cloudos.testing``: run the simulator in the foreground.

Once listening it prints ``export KEY='value'`` lines (``CLOUDOS_URL``, ``CLOUDOS_WORKSPACE_ID``,
``CLOUDOS_API_KEY``, ``CLOUDOS_PROJECT_NAME``, ``CLOUDOS_PROJECT_ID``,
``AIRFLOW_CONN_CLOUDOS_DEFAULT``), each value quoted for a POSIX shell, then ``#`` comments on
how to stop it and what it has seeded. Pasted, ``eval``-ed or ``source``-d as printed, they set
exactly these values: an unquoted JSON connection would lose its quotes in the shell, and
Airflow would then not find the connection. With ``--ready-file`` it writes the same text to
that file (atomically, so a script that waits for the file never reads half of it). It runs
until SIGINT or SIGTERM. The values are for a local test server only: the API key is the
simulator's own, never a real one.
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from airflow_provider_cloudos.core.formatters import SESSION_PAGE_PATH
from airflow_provider_cloudos.testing.simulator import CloudOSSimulator, add_timings_argument
from airflow_provider_cloudos.testing.timings import NAMED_TIMINGS


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m airflow_provider_cloudos.testing",
        description=(
            "Run the local CloudOS API simulator. Each session also has a web page, opened by a task's "
            f"CloudOS Session link: URL{SESSION_PAGE_PATH}SESSION_ID (no API key needed)."
        ),
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (default: any free port)")
    add_timings_argument(parser)
    parser.add_argument("--api-key", default=None, help="API key to accept (default: the simulator's own)")
    parser.add_argument("--workspace-id", default=None, help="workspace id (24 hex) to serve")
    parser.add_argument("--seed", type=int, default=0, help="seed for session ids and fault draws")
    parser.add_argument(
        "--ready-file", default=None, help="write the printed lines here once listening (source-able)"
    )
    return parser


def _write_atomically(path: str, text: str) -> None:
    temporary = f"{path}.tmp{os.getpid()}"
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(temporary, path)


def shell_lines(simulator: CloudOSSimulator) -> str:
    """``export KEY='value'`` lines a POSIX shell can source or eval as they are, then comments."""
    exports = [f"export {key}={shlex.quote(value)}" for key, value in simulator.environment().items()]
    seed = simulator.seed
    notes = [
        f"# CloudOS simulator listening on {simulator.url} (process {os.getpid()}).",
        "# The lines above are shell-quoted: paste them, or eval/source this output or --ready-file.",
        f"# Stop it with Ctrl-C, or: kill {os.getpid()}",
        f"# A session's page, what a task's CloudOS Session link opens: {simulator.url}{SESSION_PAGE_PATH}ID",
        f"# Sessions are {simulator.timings.describe()}.",
        f"# Seeded projects: {', '.join(project.name for project in seed.projects)} "
        f"(default {simulator.project_name!r}).",
        "# Datasets: "
        + ", ".join(
            f"{project.name}/{dataset.name}" for project in seed.projects for dataset in project.datasets
        ),
        "# Files to mount (mounts=...): " + ", ".join(seed.mountable_files()),
        "# Folders to link (links=...): " + ", ".join(seed.linkable_folders()),
    ]
    return "".join(f"{line}\n" for line in [*exports, *notes])


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        simulator = CloudOSSimulator(
            timings=NAMED_TIMINGS[args.timings](),
            api_key=args.api_key,
            workspace_id=args.workspace_id,
            port=args.port,
            seed=args.seed,
            host=args.host,
        )
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    with simulator:
        lines = shell_lines(simulator)
        sys.stdout.write(lines)
        sys.stdout.flush()
        if args.ready_file:
            _write_atomically(args.ready_file, lines)
        while not stop.wait(0.5):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
