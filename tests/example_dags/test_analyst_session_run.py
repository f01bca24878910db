"""The human-in-the-loop example answered through Airflow's REST API (Airflow 3.1+).

``airflow dags test`` runs the DAG; when its human-in-the-loop task waits for input, this test
answers "Done" the way the analyst's browser would: ``PATCH .../hitlDetails`` on an Airflow
api-server that shares the run's metadata database (``dags test`` only waits: it never answers
itself). The answer ends the body, and the block's teardown pauses the session.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from airflow.providers.common.compat.version_compat import AIRFLOW_V_3_1_PLUS, AIRFLOW_V_3_3_PLUS
from example_dag_runs import EXAMPLE_DAGS, dags_test, lines_showing, live_sessions

from airflow_provider_cloudos.client.sync import CloudOSClient
from airflow_provider_cloudos.core.status import PAUSED, RUNNING, map_status
from airflow_provider_cloudos.testing import StateTimings
from airflow_provider_cloudos.testing.demo import airflow_environment

needs_hitl = pytest.mark.skipif(
    not AIRFLOW_V_3_1_PLUS, reason="human-in-the-loop operators and their REST API need Airflow 3.1+"
)
#: On 3.1 and 3.2 ``airflow dags test`` runs the human-in-the-loop task's trigger in line, and its
#: in-process runner leaves the trigger's request for the answer unhandled (``Unhandled request
#: msg=GetHITLDetailResponse``): the task fails before anyone can answer. A triggerer answers it, so
#: a deployment is not affected; 3.3's ``dags test`` waits for the answer instead. The example still
#: parses with ``HITLOperator`` there (test_example_dags_integrity.py).
needs_dags_test_that_waits_for_input = pytest.mark.skipif(
    AIRFLOW_V_3_1_PLUS and not AIRFLOW_V_3_3_PLUS,
    reason="airflow dags test on Airflow 3.1-3.2 cannot run a human-in-the-loop task "
    "(its in-line trigger's GetHITLDetailResponse request is unhandled); 3.3 can",
)

DAG_ID = "example_cloudos_analyst_session"
TASK_ID = "analyst_session.analyst_done"
WAITING_FOR_INPUT = "Waiting for Human-in-the-loop input"
_RUN_ID = re.compile(rf"<TaskInstance: {re.escape(DAG_ID)}\.\S+ (\S+) \[")
START_TIMEOUT = 180.0
STOP_TIMEOUT = 10.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _stop_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(STOP_TIMEOUT)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(STOP_TIMEOUT)


class ApiServer:
    """``airflow api-server`` on a free loopback port, its own process group, tokenless (all admins)."""

    def __init__(self, home: Path) -> None:
        port = _free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.settings = {
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API__BASE_URL": self.url,
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        }
        self.log = home / "api-server.out"
        self.http = requests.Session()
        self.http.trust_env = False  # loopback only
        env = airflow_environment(home, EXAMPLE_DAGS, None)
        env.update(self.settings)
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "airflow", "api-server"],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    def wait_until_healthy(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            code = self.process.poll()
            assert code is None, f"the api-server exited with {code}:\n{self.log.read_text()[-3000:]}"
            with contextlib.suppress(requests.RequestException):
                if self.http.get(f"{self.url}/api/v2/monitor/health", timeout=5).ok:
                    return
            time.sleep(1)
        raise AssertionError(f"the api-server did not answer within {START_TIMEOUT:.0f}s")

    def answer(self, run_id: str, chosen: list[str]) -> requests.Response:
        quoted_run = urllib.parse.quote(run_id, safe="")
        path = f"/api/v2/dags/{DAG_ID}/dagRuns/{quoted_run}/taskInstances/{TASK_ID}/-1/hitlDetails"
        return self.http.patch(f"{self.url}{path}", json={"chosen_options": chosen}, timeout=30)

    def stop(self) -> None:
        _stop_group(self.process)


@pytest.fixture
def api_server(airflow_home: Path) -> Iterator[ApiServer]:
    server = ApiServer(airflow_home)
    try:
        server.wait_until_healthy()
        yield server
    finally:
        server.stop()


@needs_hitl
@needs_dags_test_that_waits_for_input
def test_the_analyst_answers_done_through_the_rest_api_and_the_session_is_paused(
    airflow_home, dag_simulator, dag_clock, api_server, sentinel_api_key
):
    run_ids: list[str] = []
    answers: list[requests.Response] = []
    answered = threading.Event()

    def answer_as_the_analyst(line: str) -> None:
        found = _RUN_ID.search(line)
        if found and not run_ids:
            run_ids.append(found.group(1))
        if WAITING_FOR_INPUT in line and run_ids and not answered.is_set():
            answered.set()
            # Answer from another thread: the run's output must keep flowing meanwhile.
            threading.Thread(target=lambda: answers.append(api_server.answer(run_ids[0], ["Done"]))).start()

    run = dags_test(
        airflow_home,
        dag_simulator,
        dag_clock,
        DAG_ID,
        extra_env=api_server.settings,
        on_line=answer_as_the_analyst,
    )

    assert run.code == 0, run.tail()
    assert run.dag_run_state == "success", run.tail()
    assert answered.is_set(), run.tail()
    assert [response.status_code for response in answers] == [200], [r.text for r in answers]
    assert answers[0].json()["chosen_options"] == ["Done"]
    sessions = dag_simulator.sessions()
    assert len(sessions) == 1, sessions
    session_id = sessions[0]["_id"]
    assert map_status(sessions[0]["status"]) == PAUSED
    # The analyst was shown the session's URL in the human-in-the-loop request.
    details = api_server.http.get(
        f"{api_server.url}/api/v2/dags/{DAG_ID}/dagRuns/{urllib.parse.quote(run_ids[0], safe='')}"
        f"/taskInstances/{TASK_ID}/-1/hitlDetails",
        timeout=30,
    ).json()
    assert f"/interactive-analysis/view/{session_id}" in details["body"], details
    assert details["chosen_options"] == ["Done"]
    assert [request[0] for request in dag_simulator.abort_requests] == [session_id]
    assert lines_showing(sentinel_api_key, run.output) == []  # 3.0.x's own mask line aside
    assert live_sessions(dag_simulator) == []


@pytest.mark.skipif(AIRFLOW_V_3_1_PLUS, reason="from Airflow 3.1 the example has the HITL form instead")
def test_before_airflow_3_1_the_analyst_pauses_the_session_in_cloudos(airflow_home, dag_simulator, dag_clock):
    """The recipe's fallback: the body waits until the analyst pauses the session themselves."""
    paused_by_analyst: list[str] = []
    # A pause completes at once, so the body's sensor sees it on its first look.
    dag_simulator.set_timings(
        StateTimings(scheduled=1.0, setup=1.0, initialising=1.0, aborting=0.0, resume_initialising=1.0)
    )
    client = CloudOSClient(dag_simulator.url, dag_simulator.api_key, dag_simulator.workspace_id)

    def pause_as_the_analyst(line: str) -> None:
        # The body starts: the analyst works, then pauses the session in CloudOS.
        if f"starting task_id={TASK_ID}" in line and not paused_by_analyst:
            for session in dag_simulator.sessions():
                if map_status(session["status"]) == RUNNING:
                    client.pause_session(session["_id"], upload_on_close=True)
                    paused_by_analyst.append(session["_id"])

    run = dags_test(airflow_home, dag_simulator, dag_clock, DAG_ID, on_line=pause_as_the_analyst)

    assert run.code == 0, run.tail()
    assert run.dag_run_state == "success", run.tail()
    assert len(paused_by_analyst) == 1, run.tail()
    assert map_status(dag_simulator.session(paused_by_analyst[0])["status"]) == PAUSED
    assert live_sessions(dag_simulator) == []
