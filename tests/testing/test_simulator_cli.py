"""The command-line entry point and the promise that the simulator does not import Airflow."""

from __future__ import annotations

import json
import os
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


def _wait_for_file(process: subprocess.Popen[str], path: Path, timeout: float = 30.0) -> dict[str, str]:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if process.poll() is not None:
            raise AssertionError(f"simulator exited early: {process.stderr.read() if process.stderr else ''}")
        if time.monotonic() > deadline:
            raise AssertionError(f"no ready file within {timeout}s")
        time.sleep(0.02)
    lines = path.read_text().splitlines()
    return dict(line.split("=", 1) for line in lines)


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
