"""OpenLineage events from a real ``airflow dags test`` run, read back from the provider's file transport.

The OpenLineage provider (the ``openlineage`` extra, installed with the test extra) is configured
the way a user configures it, through ``AIRFLOW__OPENLINEAGE__TRANSPORT``, to write each event as
a JSON line. The on-demand example DAG then creates a session that mounts a CloudOS file (written
from a folder inside its dataset) and an S3 object, and links a CloudOS folder and an S3 prefix;
its create task waits in the triggerer, so the COMPLETE event comes from the operator instance
Airflow makes after the deferral, which must find the lineage the first half recorded.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from example_dag_runs import (
    STEP_TIMINGS,
    TRIGGER_RAN_INLINE,
    AirflowRun,
    dags_test,
    lines_showing,
    live_sessions,
)

from airflow_provider_cloudos.testing import CloudOSSimulator, ManualClock

pytest.importorskip("airflow.providers.openlineage", reason="the openlineage extra is not installed")

#: This module's one DAG run has a simulator of its own; its key must not reach any event.
API_KEY = "SENTINEL-lineage-key-5d1e02"

DAG_ID = "example_cloudos_on_demand"
CONF = {
    "session_name": "lineage",
    # `results` is a folder of the Data dataset: lineage names the file from its dataset down.
    "mounts": ["genomics/results/summary.tsv", "s3://lifebit-cohorts/2026/variants.vcf.gz"],
    "links": ["genomics/Data/results/run1", "s3://team-scratch/analysis/"],
}


def read_events(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def task_events(events: list[dict[str, Any]], task_id: str, event_type: str) -> list[dict[str, Any]]:
    job = f"{DAG_ID}.{task_id}"
    return [event for event in events if event["job"]["name"] == job and event["eventType"] == event_type]


def names(datasets: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return sorted((dataset["namespace"], dataset["name"]) for dataset in datasets)


class LineageRun(NamedTuple):
    run: AirflowRun
    events: list[dict[str, Any]]
    raw: str
    simulator: CloudOSSimulator


@pytest.fixture(scope="module")
def lineage_run(airflow_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LineageRun]:
    """One ``airflow dags test`` of the on-demand DAG with the file transport (about a minute)."""
    events_file = tmp_path_factory.mktemp("openlineage") / "events.jsonl"
    transport = {"type": "file", "log_file_path": str(events_file), "append": True}
    clock = ManualClock()
    with CloudOSSimulator(timings=STEP_TIMINGS, api_key=API_KEY, clock=clock) as simulator:
        run = dags_test(
            airflow_home,
            simulator,
            clock,
            DAG_ID,
            conf=CONF,
            extra_env={"AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps(transport)},
        )
        assert run.code == 0, run.tail()
        assert events_file.exists(), run.tail()
        raw = events_file.read_text()
        yield LineageRun(run, read_events(events_file), raw, simulator)


def test_create_complete_event_names_exactly_the_mounts_and_links(lineage_run):
    (complete,) = task_events(lineage_run.events, "create", "COMPLETE")
    simulator = lineage_run.simulator
    cloudos = f"cloudos://127.0.0.1:{simulator.port}/{simulator.workspace_id}"

    assert names(complete["inputs"]) == sorted(
        [
            (cloudos, "genomics/Data/results/summary.tsv"),
            ("s3://lifebit-cohorts", "2026/variants.vcf.gz"),
        ]
    )
    assert names(complete["outputs"]) == sorted(
        [(cloudos, "genomics/Data/results/run1"), ("s3://team-scratch", "analysis")]
    )
    # The create task deferred: its COMPLETE came from the instance Airflow made afterwards.
    assert TRIGGER_RAN_INLINE in lineage_run.run.output


def test_create_complete_event_carries_the_session_facet(lineage_run):
    (complete,) = task_events(lineage_run.events, "create", "COMPLETE")
    simulator = lineage_run.simulator
    (session,) = simulator.sessions()

    facet = complete["run"]["facets"]["cloudosSession"]
    assert facet["sessionId"] == session["_id"]
    assert facet["name"] == session["name"]
    assert facet["sessionType"] == "Jupyter"
    assert facet["instanceType"] == "c5.xlarge"
    assert facet["executionPlatform"] == "aws"
    assert facet["project"] == "genomics"
    assert facet["workspaceId"] == simulator.workspace_id
    assert facet["url"] == f"{simulator.url}/app/data-science/interactive-analysis/view/{session['_id']}"
    assert facet["_schemaURL"].endswith("/airflow_provider_cloudos/schemas/CloudOSSessionRunFacet.json")


def test_start_event_names_only_what_needs_no_lookup(lineage_run):
    starts = task_events(lineage_run.events, "create", "START")

    assert starts, "no START event for the create task"
    for start in starts:
        assert names(start["inputs"]) == [("s3://lifebit-cohorts", "2026/variants.vcf.gz")]
        assert names(start["outputs"]) == [("s3://team-scratch", "analysis")]


def test_other_tasks_report_no_session_datasets_and_nothing_leaks(lineage_run):
    """Only the stop task names datasets besides the create task: the folders its pause saved, which
    it records as asset events, and Airflow's OpenLineage integration reports as its outputs (under
    the names the create task gave them; an S3 asset needs the Amazon provider's converter, which
    this environment does not install)."""
    (complete,) = task_events(lineage_run.events, "create", "COMPLETE")
    linked = names(complete["outputs"])
    others = [event for event in lineage_run.events if event["job"]["name"] != f"{DAG_ID}.create"]

    assert others
    for event in others:
        inputs, outputs = event.get("inputs", []), event.get("outputs", [])
        assert inputs == [], event["job"]["name"]
        if event["job"]["name"] == f"{DAG_ID}.stop":
            assert set(names(outputs)) <= set(linked), outputs
        else:
            assert outputs == [], event["job"]["name"]
    assert API_KEY not in lineage_run.raw
    assert lines_showing(API_KEY, lineage_run.run.output) == []  # 3.0.x's own mask line aside
    assert live_sessions(lineage_run.simulator) == []
