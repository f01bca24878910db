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
from typing import Any

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
def captured_logs(caplog: pytest.LogCaptureFixture) -> Iterator[tuple[pytest.LogCaptureFixture, list[Any]]]:
    """Std logging records (caplog) and structlog events, captured once for the whole test.

    Airflow 3 logs through structlog (which caplog does not see); 2.11 through std logging only,
    and does not install structlog. One capture serves :func:`log_messages` and :func:`log_lines`
    (two nested structlog captures would each see only part of the events).
    """
    caplog.set_level(logging.INFO)
    try:
        import structlog
    except ImportError:  # Airflow 2.11
        yield caplog, []
        return
    with structlog.testing.capture_logs() as captured:
        yield caplog, captured


@pytest.fixture
def log_messages(
    captured_logs: tuple[pytest.LogCaptureFixture, list[Any]],
) -> Callable[[], list[str]]:
    """Every log message emitted during the test: what it says, for tests of wording."""
    caplog, captured = captured_logs
    return lambda: [r.getMessage() for r in caplog.records] + [str(e.get("event")) for e in captured]


def render_structlog_event(entry: dict[str, Any]) -> str:
    """One captured structlog event as a log line shows it: the message with its ``%s`` arguments
    filled in, then every key-value field. A secret passed as an argument or a field is in here.
    """
    fields = dict(entry)
    message = str(fields.pop("event", ""))
    arguments = fields.pop("positional_args", ())
    if arguments:
        try:
            message = message % tuple(arguments)
        except (TypeError, ValueError):
            message = f"{message} {arguments!r}"
    return " ".join([message, *(f"{key}={value!r}" for key, value in fields.items())])


@pytest.fixture
def log_lines(captured_logs: tuple[pytest.LogCaptureFixture, list[Any]]) -> Callable[[], list[str]]:
    """Every log line emitted during the test (from DEBUG up), rendered whole, for secret scans.

    Unlike :func:`log_messages`, a line here has the arguments filled in, the key-value fields,
    and any exception's traceback: wherever a key could show up.
    """
    caplog, captured = captured_logs
    caplog.set_level(logging.DEBUG)
    formatter = logging.Formatter("%(levelname)s %(name)s %(message)s")
    return lambda: (
        [formatter.format(r) for r in caplog.records] + [render_structlog_event(e) for e in captured]
    )


@pytest.fixture(autouse=True, scope="session")
def _execute_from_any_thread() -> None:
    """Let tests call ``execute`` from a second thread (to kill it from the first) on 2.11 too.

    2.11's ``ExecutorSafeguard`` keeps its bookkeeping in a thread-local that is set up only on
    the thread that imported Airflow, so ``execute`` on any other thread fails with an
    AttributeError before the operator runs. Airflow runs ``execute`` on the main thread, so only
    tests meet this; Airflow 3 has no such safeguard state.
    """
    from airflow_provider_cloudos.compat import AIRFLOW_V_3_0_PLUS

    if AIRFLOW_V_3_0_PLUS:
        return
    import types

    from airflow.models.baseoperator import ExecutorSafeguard

    ExecutorSafeguard._sentinel = types.SimpleNamespace(callers={})


@pytest.fixture(scope="session")
def airflow_db() -> None:
    """Airflow 2.11's metadata database, for what a 2.11 worker or triggerer reads from it.

    On 2.11 reschedule-mode sensors, XCom reads for links and the triggerer's task-state check
    query it directly. Airflow 3 code goes through the task SDK instead, so there it is not made.
    """
    from airflow_provider_cloudos.compat import AIRFLOW_V_3_0_PLUS

    if AIRFLOW_V_3_0_PLUS:
        return
    from airflow.utils.db import initdb

    initdb()
