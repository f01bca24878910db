"""The command-line entry point and the promise that the simulator does not import Airflow."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

MODULE = "airflow_provider_cloudos.testing"


def _start(tmp_path: Path, *args: str) -> tuple[subprocess.Popen[str], Path]:
    ready_file = tmp_path / "simulator.env"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            MODULE,
            "--port",
            "0",
            "--timings",
            "fast",
            "--ready-file",
            str(ready_file),
            *args,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return process, ready_file


SIMULATOR_KEYS = (
    "CLOUDOS_URL",
    "CLOUDOS_WORKSPACE_ID",
    "CLOUDOS_API_KEY",
    "CLOUDOS_PROJECT_NAME",
    "CLOUDOS_PROJECT_ID",
    "AIRFLOW_CONN_CLOUDOS_DEFAULT",
)
#: Prints the simulator's variables, NUL-separated, after a shell read the printed lines.
_PRINT_VALUES = 'printf "%s\\0" ' + " ".join(f'"${{{key}}}"' for key in SIMULATOR_KEYS)


def shell_values(script: str, text: str = "") -> dict[str, str]:
    """What bash sets from ``script`` (``source FILE``, or ``eval "$TEXT"`` with ``text``), in a clean env."""
    result = subprocess.run(
        ["bash", "-c", f"set -eu; {script}; {_PRINT_VALUES}"],
        capture_output=True,
        text=True,
        timeout=30,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "TEXT": text},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    values = result.stdout.split("\0")[: len(SIMULATOR_KEYS)]
    return dict(zip(SIMULATOR_KEYS, values, strict=True))


def evaluated(text: str) -> dict[str, str]:
    """What ``eval`` of the printed text sets in bash."""
    return shell_values('eval "$TEXT"', text)


def _wait_for_file(process: subprocess.Popen[str], path: Path, timeout: float = 30.0) -> dict[str, str]:
    """The values a shell gets by ``source``-ing the ready file as written."""
    deadline = time.monotonic() + timeout
    while not path.exists():
        if process.poll() is not None:
            raise AssertionError(f"simulator exited early: {process.stderr.read() if process.stderr else ''}")
        if time.monotonic() > deadline:
            raise AssertionError(f"no ready file within {timeout}s")
        time.sleep(0.02)
    return shell_values(f"source {shlex.quote(str(path))}")


def _stop(process: subprocess.Popen[str]) -> tuple[int, str]:
    process.send_signal(signal.SIGTERM)
    try:
        stdout, _ = process.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise
    return process.returncode, stdout


def test_cli_serves_until_sigterm_and_announces_itself(tmp_path: Path):
    process, ready_file = _start(tmp_path)
    try:
        values = _wait_for_file(process, ready_file)
        assert set(values) == {
            "CLOUDOS_URL",
            "CLOUDOS_WORKSPACE_ID",
            "CLOUDOS_API_KEY",
            "CLOUDOS_PROJECT_NAME",
            "CLOUDOS_PROJECT_ID",
            "AIRFLOW_CONN_CLOUDOS_DEFAULT",
        }
        assert values["CLOUDOS_PROJECT_NAME"] == "genomics"
        connection = json.loads(values["AIRFLOW_CONN_CLOUDOS_DEFAULT"])
        assert connection["host"] == values["CLOUDOS_URL"]
        response = requests.get(
            f"{values['CLOUDOS_URL']}/api/v2/projects",
            params={"teamId": values["CLOUDOS_WORKSPACE_ID"], "search": values["CLOUDOS_PROJECT_NAME"]},
            headers={"apikey": values["CLOUDOS_API_KEY"]},
            timeout=10,
        )
        assert response.status_code == 200
        assert values["CLOUDOS_PROJECT_ID"] in {p["_id"] for p in response.json()["projects"]}
    finally:
        returncode, stdout = _stop(process)
    assert returncode == 0
    assert stdout == ready_file.read_text()
    assert f"{values['CLOUDOS_URL']}/app/data-science/interactive-analysis/view/ID" in stdout
    assert "# Sessions are running 0.15 s after creation, billed in real time." in stdout


def test_cli_accepts_a_custom_api_key(tmp_path: Path):
    process, ready_file = _start(tmp_path, "--api-key", "my-test-key", "--workspace-id", "ab" * 12)
    try:
        values = _wait_for_file(process, ready_file)
        assert values["CLOUDOS_API_KEY"] == "my-test-key"
        assert values["CLOUDOS_WORKSPACE_ID"] == "ab" * 12
        response = requests.get(
            f"{values['CLOUDOS_URL']}/api/v2/projects",
            params={"teamId": "ab" * 12},
            headers={"apikey": "my-test-key"},
            timeout=10,
        )
        assert response.status_code == 200
    finally:
        assert _stop(process)[0] == 0


def test_printed_lines_survive_a_shell_as_printed(tmp_path: Path):
    """eval-ed or sourced as printed, the connection variable is still Airflow's JSON, key intact."""
    awkward_key = "it's a $HOME key; with `ticks`"
    process, ready_file = _start(tmp_path, "--api-key", awkward_key)
    try:
        sourced = _wait_for_file(process, ready_file)
    finally:
        returncode, stdout = _stop(process)
    assert returncode == 0
    for values in (sourced, evaluated(stdout)):
        assert values["CLOUDOS_API_KEY"] == awkward_key
        connection = json.loads(values["AIRFLOW_CONN_CLOUDOS_DEFAULT"])
        assert connection["conn_type"] == "cloudos"
        assert connection["password"] == awkward_key
        assert connection["host"] == values["CLOUDOS_URL"]
        # The simulator answers at once: tasks that set no interval check every second.
        assert connection["extra"] == {"workspace_id": values["CLOUDOS_WORKSPACE_ID"], "poll_interval": 1.0}
    assert all(line.startswith(("export ", "# ")) for line in stdout.splitlines()), stdout


def test_printed_lines_say_how_to_stop_it_and_what_is_seeded(tmp_path: Path):
    process, ready_file = _start(tmp_path)
    try:
        _wait_for_file(process, ready_file)
        printed = ready_file.read_text()
    finally:
        _stop(process)
    assert f"kill {process.pid}" in printed
    assert "Ctrl-C" in printed
    assert "genomics, genomics-archive" in printed
    assert "genomics/Data/samples.csv" in printed  # a file to mount
    assert "genomics/Reference/genome.fa" in printed
    assert "genomics/Data/results" in printed  # a folder to link
    assert "genomics/Data/empty" not in printed  # empty: nothing to link


def test_cli_accepts_quick_as_the_old_name_of_fast():
    from airflow_provider_cloudos.testing.__main__ import build_parser

    assert build_parser().parse_args(["--timings", "quick"]).timings == "fast"


def test_cli_refuses_a_bad_workspace_id():
    result = subprocess.run(
        [sys.executable, "-m", MODULE, "--workspace-id", "nope"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "workspace_id='nope'" in result.stderr


def test_importing_the_simulator_loads_no_airflow_module():
    code = (
        "import sys\n"
        f"import {MODULE}, {MODULE}.simulator, {MODULE}.__main__\n"
        "leaked = sorted(m for m in sys.modules if m == 'airflow' or m.startswith('airflow.'))\n"
        "print(leaked)\n"
        "sys.exit(1 if leaked else 0)\n"
    )
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTHONSTARTUP")}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
