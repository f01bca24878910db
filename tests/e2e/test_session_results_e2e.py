"""A session's saved results start the DAG scheduled on them, in a real Airflow 3.

The example pair runs in api-server, scheduler, dag-processor and triggerer (``airflow_stack.py``),
driven through the REST API only:

1. the producer (``example_cloudos_results_producer``) runs with ``save_results`` false: its
   session is paused without upload. Nothing was saved, so no asset event exists and nothing is
   queued for the pipeline: the scheduler has nothing to start it with.
2. it runs again with ``save_results`` true: the pause saves the data, the stop task records an
   event for each folder the session links (the S3 folder, under the name the pipeline's
   schedule gave its asset, and the project folder under its ``cloudos://`` URI), and the
   scheduler starts the pipeline (``example_cloudos_results_pipeline``), whose task reads which
   session saved.

Sessions change state only when the test moves the simulator's clock (``ClockDriver``), so no step
depends on the machine's speed. Run it with ``pytest -m airflow_e2e tests/e2e``; it needs Airflow 3.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest
from airflow_processes import wait_for
from airflow_stack import RUN_TIMEOUT, AirflowStack, ClockDriver, run_to_the_end, running_stack

from airflow_provider_cloudos.compat import AIRFLOW_V_3_0_PLUS
from airflow_provider_cloudos.core.lineage import cloudos_namespace
from airflow_provider_cloudos.core.status import PAUSED, map_status
from airflow_provider_cloudos.operators.cloudos_task import RESULTS_ALIAS
from airflow_provider_cloudos.testing import CloudOSSimulator

pytestmark = pytest.mark.airflow_e2e

if not AIRFLOW_V_3_0_PLUS:
    pytest.skip("the end-to-end test drives Airflow 3's components", allow_module_level=True)

PRODUCER = "example_cloudos_results_producer"
PIPELINE = "example_cloudos_results_pipeline"
#: The folder the pipeline is scheduled on, as Airflow normalises it, and as its DAG wrote it.
S3_URI = "s3://team-results/rnaseq"
S3_ASSET_NAME = "s3://team-results/rnaseq/"


@pytest.fixture(scope="module")
def stack(simulator: CloudOSSimulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AirflowStack]:
    home = tmp_path_factory.mktemp("e2e-results-airflow-home")
    with running_stack(home, simulator, (PRODUCER, PIPELINE), {}) as airflow:
        yield airflow


def _events(stack: AirflowStack) -> list[dict[str, Any]]:
    """Every asset event the producer's tasks recorded."""
    return list(stack.api("GET", f"/assets/events?source_dag_id={PRODUCER}&limit=100")["asset_events"])


def _queued(stack: AirflowStack) -> list[dict[str, Any]]:
    """Asset events waiting for the scheduler to start the pipeline with."""
    return list(stack.api("GET", f"/dags/{PIPELINE}/assets/queuedEvents")["queued_events"])


def _session_of(stack: AirflowStack, run_id: str) -> str:
    quoted = urllib.parse.quote(run_id, safe="")
    entry = stack.api(
        "GET", f"/dags/{PRODUCER}/dagRuns/{quoted}/taskInstances/create/xcomEntries/return_value"
    )
    return str(entry["value"])


def test_the_pipeline_runs_after_a_pause_that_saved_and_not_after_one_that_did_not(stack, simulator, clock):
    driver = ClockDriver(stack, clock)
    stack.unpause(PIPELINE)
    stack.unpause(PRODUCER)

    # 1. A pause without upload: the session is paused, nothing is recorded, nothing is queued.
    unsaved_run = stack.trigger(PRODUCER, {"save_results": False})
    run_to_the_end(stack, driver, (PRODUCER,))
    unsaved = _session_of(stack, unsaved_run)
    assert map_status(simulator.session(unsaved)["status"]) == PAUSED
    assert simulator.abort_requests == [(unsaved, False, False)]
    assert _events(stack) == []
    assert _queued(stack) == []
    assert stack.runs(PIPELINE) == []

    # 2. A pause that saved: one event per linked folder, and the scheduler starts the pipeline.
    saved_run = stack.trigger(PRODUCER, {"save_results": True})
    run_to_the_end(stack, driver, (PRODUCER,))
    saved = _session_of(stack, saved_run)
    assert simulator.abort_requests == [(unsaved, False, False), (saved, True, False)]
    wait_for("the scheduler to start the pipeline", lambda: stack.runs(PIPELINE) or None, RUN_TIMEOUT)
    run_to_the_end(stack, driver, (PIPELINE,))
    [pipeline_run] = stack.runs(PIPELINE)
    assert pipeline_run["run_type"] == "asset_triggered"
    quoted = urllib.parse.quote(pipeline_run["dag_run_id"], safe="")
    processed = stack.api(
        "GET", f"/dags/{PIPELINE}/dagRuns/{quoted}/taskInstances/process_results/xcomEntries/return_value"
    )["value"]
    assert [(entry["uri"], entry["session_id"]) for entry in processed] == [(S3_URI, saved)]

    # Read only once the pipeline run has started: each event lists the runs it created, and
    # Airflow's API answers 500 for a run still queued (its response model requires a start date).
    project_uri = f"{cloudos_namespace(simulator.url, simulator.workspace_id)}/genomics/Data/results"
    events = {event["uri"]: event for event in _events(stack)}
    assert sorted(events) == sorted([S3_URI, project_uri])
    assert events[S3_URI]["name"] == S3_ASSET_NAME  # the asset the pipeline's schedule declared
    for event in events.values():
        assert (event["source_task_id"], event["source_run_id"]) == ("stop", saved_run)
        assert event["extra"]["session_id"] == saved
        assert event["extra"]["saved_at"] == simulator.session(saved)["lastSavedAt"]
    assert stack.api("GET", f"/assets/aliases?name_pattern={RESULTS_ALIAS}")["total_entries"] == 1

    assert _queued(stack) == []
