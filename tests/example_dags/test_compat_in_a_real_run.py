"""Each ``compat`` branch, taken inside a real Airflow run of the installed version.

``probe_dags/compat_probe.py`` runs under ``airflow dags test`` and reports what ``compat`` saw
and did there; this test holds the report against what the Airflow version in use must give. The
expected branch comes from the version number, not from ``compat``'s own flags, so a wrong flag
fails here. CI runs this on 2.11, 3.0, 3.1, 3.2 and 3.3.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import airflow
import pytest
from example_dag_runs import run_airflow_cli
from packaging.version import Version

from airflow_provider_cloudos.core.status import map_status
from airflow_provider_cloudos.testing.demo import airflow_environment

PROBE_DAGS = Path(__file__).resolve().parent / "probe_dags"
REPORT_MARKER = "COMPAT_PROBE_REPORT "
AIRFLOW = Version(airflow.__version__).release[:2]
PAUSED_OR_PAUSING = {map_status("aborting"), map_status("aborted")}
STILL_STARTING = map_status("setup")


@pytest.fixture(scope="module")
def probe_report(airflow_home: Path) -> dict[str, Any]:
    environment = airflow_environment(airflow_home, PROBE_DAGS, None)
    run = run_airflow_cli(["dags", "test", "compat_probe"], environment)
    assert run.code == 0, run.tail()
    reports = [line.split(REPORT_MARKER, 1)[1] for line in run.output.splitlines() if REPORT_MARKER in line]
    assert reports, run.tail()
    # The log line may go on after the JSON (a closing quote, logger fields): read the JSON only.
    report, _ = json.JSONDecoder().raw_decode(reports[-1])
    return dict(report)


def _state(value: str | None) -> str | None:
    return None if value is None else value.lower().rsplit(".", 1)[-1]


def test_the_task_instance_comes_from_this_airflows_context(probe_report):
    assert probe_report["context_has_ti"] is True


def test_task_states_are_read_through_this_airflow(probe_report):
    # 3.x: the task SDK asks the execution API; 2.11: the metadata database is queried.
    assert _state(probe_report["finished_state"]) == "success"
    # The probe's own state: 2.11's `dags test` runs a task without recording "running" in the
    # database (it is still "scheduled" there); 3.x's execution API has it "running".
    assert _state(probe_report["own_state"]) == ("running" if AIRFLOW >= (3, 0) else "scheduled")
    assert probe_report["finished_still_deferred"] is False


def test_only_2_11_ends_a_deferral_at_execution_timeout(probe_report):
    deadline_in = probe_report["deferral_deadline_in"]
    if AIRFLOW >= (3, 0):
        assert deadline_in is None
    else:
        # 10 minutes from the try's start; 2.11's `dags test` leaves the start unset, so from now.
        assert deadline_in is not None
        assert 600 <= deadline_in < 660


def test_the_per_task_store_exists_from_3_3(probe_report):
    assert probe_report["has_task_state_store"] is (AIRFLOW >= (3, 3))


def test_a_kill_reaches_the_trigger_the_way_this_airflow_sends_it(probe_report):
    assert probe_report["trigger_has_on_kill"] is (AIRFLOW >= (3, 3))
    if AIRFLOW >= (3, 3):
        # A cancellation is a shutdown or a move here: the session must keep running.
        assert probe_report["after_cancel"] == STILL_STARTING
    else:
        # 2.11 and 3.0-3.2: the cancellation is the kill, and the task is gone: pause.
        assert probe_report["after_cancel"] in PAUSED_OR_PAUSING
    # on_kill (called by 3.3+) pauses a session whose task is no longer deferred on every line.
    assert probe_report["after_on_kill"] in PAUSED_OR_PAUSING
