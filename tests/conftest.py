"""Test-wide setup: an isolated Airflow home and the local CloudOS simulator.

Airflow reads its configuration at import time, so AIRFLOW_HOME and friends are set here,
before any test module imports Airflow. Nothing leaks between runs: the home is a fresh
temporary directory and every simulator is a fresh server on a free loopback port.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable, Iterator

import pytest

_AIRFLOW_HOME = tempfile.mkdtemp(prefix="cloudos-tests-airflow-home-")
os.environ["AIRFLOW_HOME"] = _AIRFLOW_HOME
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "True")
os.environ.setdefault("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", f"sqlite:///{_AIRFLOW_HOME}/airflow.db")
# Requests must reach the simulator on 127.0.0.1 directly, whatever proxy the machine sets.
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"

from airflow_provider_cloudos.testing import CloudOSSimulator, StateTimings  # noqa: E402

#: The API key every provider test uses; tests assert it never shows up anywhere.
SENTINEL_API_KEY = "SENTINEL-cloudos-key-7f3a9c"


@pytest.fixture
def simulator() -> Iterator[CloudOSSimulator]:
    """A simulator whose sessions move through each state in a few tens of milliseconds."""
    with CloudOSSimulator(timings=StateTimings.fast(), api_key=SENTINEL_API_KEY) as sim:
        yield sim


@pytest.fixture
def cloudos_conn(simulator: CloudOSSimulator, monkeypatch: pytest.MonkeyPatch) -> CloudOSSimulator:
    """The ``cloudos_default`` connection pointed at the simulator, as an env-var JSON connection."""
    monkeypatch.setenv("AIRFLOW_CONN_CLOUDOS_DEFAULT", simulator.connection_json())
    return simulator


@pytest.fixture
def sentinel_api_key() -> str:
    return SENTINEL_API_KEY


@pytest.fixture
def log_messages(caplog: pytest.LogCaptureFixture) -> Iterator[Callable[[], list[str]]]:
    """Every log message emitted during the test, from std logging and from structlog.

    Airflow 3 logs through structlog (which caplog does not see); 2.11 through std logging.
    """
    import structlog

    caplog.set_level(logging.INFO)
    with structlog.testing.capture_logs() as captured:
        yield lambda: [r.getMessage() for r in caplog.records] + [str(e.get("event")) for e in captured]
