"""OpenLineage from the create and resume operators, through the methods the provider calls.

The provider calls ``get_openlineage_facets_on_start`` before ``execute`` and
``get_openlineage_facets_on_complete`` after the task's last method ran, on the same instance;
after a deferral that is a new instance, so these tests make one too.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException, TaskDeferred
from operator_helpers import FAST, make_context, run_trigger

import airflow_provider_cloudos.operators.cloudos_task as lineage_module
from airflow_provider_cloudos.operators.cloudos_task import XCOM_LINEAGE
from airflow_provider_cloudos.operators.sessions import (
    CloudOSCreateSessionOperator,
    CloudOSResumeSessionOperator,
)

pytest.importorskip("airflow.providers.openlineage", reason="the openlineage extra is not installed")

MOUNTS = ["genomics/results/summary.tsv", "s3://lifebit-cohorts/2026/variants.vcf.gz"]
LINKS = ["genomics/Data/results/run1", "s3://team-scratch/analysis/"]


def create(**kwargs) -> CloudOSCreateSessionOperator:
    options = {"task_id": "create", "name": "analysis", "project_name": "genomics", **FAST}
    options.update(kwargs)
    return CloudOSCreateSessionOperator(**options)


def resume(session_id: str, **kwargs) -> CloudOSResumeSessionOperator:
    return CloudOSResumeSessionOperator(task_id="resume", session_id=session_id, **FAST, **kwargs)


def names(datasets) -> list[tuple[str, str]]:
    return sorted((dataset.namespace, dataset.name) for dataset in datasets)


def cloudos_namespace(simulator) -> str:
    return f"cloudos://127.0.0.1:{simulator.port}/{simulator.workspace_id}"


def test_create_reports_mounted_files_as_inputs_and_linked_folders_as_outputs(cloudos_conn):
    task = create(mounts=MOUNTS, links=LINKS)
    context = make_context()
    session_id = task.execute(context)

    lineage = task.get_openlineage_facets_on_complete(context["ti"])
    namespace = cloudos_namespace(cloudos_conn)
    assert names(lineage.inputs) == sorted(
        [(namespace, "genomics/Data/results/summary.tsv"), ("s3://lifebit-cohorts", "2026/variants.vcf.gz")]
    )
    assert names(lineage.outputs) == sorted(
        [(namespace, "genomics/Data/results/run1"), ("s3://team-scratch", "analysis")]
    )
    facet = lineage.run_facets["cloudosSession"]
    assert facet.sessionId == session_id
    assert (facet.sessionType, facet.instanceType, facet.project) == ("Jupyter", "c5.xlarge", "genomics")
    assert facet.workspaceId == cloudos_conn.workspace_id
    assert facet.url == f"{cloudos_conn.url}/app/data-science/interactive-analysis/view/{session_id}"
    assert context["ti"].last(XCOM_LINEAGE)["session"]["sessionId"] == session_id


def test_no_api_key_in_the_lineage_or_its_xcom(cloudos_conn, sentinel_api_key):
    from openlineage.client.serde import Serde

    task = create(mounts=MOUNTS, links=LINKS)
    context = make_context()
    task.execute(context)

    lineage = task.get_openlineage_facets_on_complete(context["ti"])
    serialized = [Serde.to_json(item) for item in [*lineage.inputs, *lineage.outputs]]
    serialized += [Serde.to_json(facet) for facet in lineage.run_facets.values()]
    assert all(sentinel_api_key not in text for text in serialized)
    assert sentinel_api_key not in json.dumps(context["ti"].pushes)


def test_a_deferred_create_finds_its_lineage_again_in_the_new_instance(cloudos_conn):
    context = make_context()
    with pytest.raises(TaskDeferred) as deferred:
        create(mounts=MOUNTS, links=LINKS, deferrable=True).execute(context)

    resumed = create(mounts=MOUNTS, links=LINKS, deferrable=True)  # what Airflow builds after the wait
    session_id = resumed.execute_complete(context, event=run_trigger(deferred.value.trigger))

    lineage = resumed.get_openlineage_facets_on_complete(context["ti"])
    assert len(lineage.inputs) == 2
    assert len(lineage.outputs) == 2
    assert lineage.run_facets["cloudosSession"].sessionId == session_id


def test_a_retried_create_reports_the_session_it_carried_on_with(cloudos_conn):
    create(mounts=MOUNTS, links=LINKS, wait_for_running=False).execute(make_context())
    retry_context = make_context(try_number=2)
    retry = create(mounts=MOUNTS, links=LINKS)
    session_id = retry.execute(retry_context)

    assert cloudos_conn.counters.requests("create") == 1
    lineage = retry.get_openlineage_facets_on_complete(retry_context["ti"])
    assert lineage.run_facets["cloudosSession"].sessionId == session_id
    assert (len(lineage.inputs), len(lineage.outputs)) == (2, 2)


def test_the_start_event_names_only_the_s3_paths(cloudos_conn):
    lineage = create(mounts=MOUNTS, links=LINKS).get_openlineage_facets_on_start()

    assert names(lineage.inputs) == [("s3://lifebit-cohorts", "2026/variants.vcf.gz")]
    assert names(lineage.outputs) == [("s3://team-scratch", "analysis")]
    assert lineage.run_facets == {}
    assert cloudos_conn.counters.requests() == 0  # no lookup before the task runs


def test_a_bad_path_gives_an_empty_start_event_and_the_task_names_the_problem(cloudos_conn):
    task = create(mounts=["genomics/Data/samples.csv"])
    task.mounts = ["gs://bucket/file"]  # as a template could render (a literal is refused at parse time)
    assert task.get_openlineage_facets_on_start().inputs == []
    with pytest.raises(AirflowFailException, match=r"mounts.*gs://bucket/file"):
        task.execute(make_context())
    # A task that failed before its session existed reports no datasets and no session.
    failed = task.get_openlineage_facets_on_complete(None)
    assert (failed.inputs, failed.outputs, failed.run_facets) == ([], [], {})


def test_resume_reports_what_it_mounted_and_linked(cloudos_conn):
    paused = cloudos_conn.add_session(name="resumable", status="aborted")["_id"]
    task = resume(paused, mounts=["genomics/Data/samples.csv"], links=["s3://team-scratch/analysis/"])
    context = make_context()
    task.execute(context)

    lineage = task.get_openlineage_facets_on_complete(context["ti"])
    assert names(lineage.inputs) == [(cloudos_namespace(cloudos_conn), "genomics/Data/samples.csv")]
    assert names(lineage.outputs) == [("s3://team-scratch", "analysis")]
    assert lineage.run_facets["cloudosSession"].sessionId == paused


def test_resuming_a_running_session_reports_the_session_and_no_datasets(cloudos_conn):
    running = cloudos_conn.add_session(name="busy", status="ready")["_id"]
    task = resume(running, mounts=["genomics/Data/samples.csv"])
    context = make_context()
    task.execute(context)

    lineage = task.get_openlineage_facets_on_complete(context["ti"])
    assert (lineage.inputs, lineage.outputs) == ([], [])  # nothing was mounted: it was not paused
    assert lineage.run_facets["cloudosSession"].sessionId == running


def test_without_the_openlineage_provider_nothing_is_kept_and_the_task_works(cloudos_conn, monkeypatch):
    monkeypatch.setattr(lineage_module, "openlineage_installed", lambda: False)
    context = make_context()
    session_id = create(mounts=MOUNTS, links=LINKS).execute(context)

    assert cloudos_conn.session(session_id)["status"] == "ready"
    assert context["ti"].pushed(XCOM_LINEAGE) == []
    # What the linked folders are (for the pause that saves into them, lineage or not), then the
    # summary again once the blocking wait saw the session running.
    assert [key for key, _ in context["ti"].pushes] == [
        "session_id",
        "session_url",
        "session_summary",
        "cloudos_linked_folders",
        "session_summary",
    ]


def _probe(*arguments: str):
    completed = subprocess.run(
        [sys.executable, *arguments], capture_output=True, text=True, check=True, timeout=120
    )
    return json.loads(completed.stdout.strip().splitlines()[-1])


def test_without_the_openlineage_extra_a_create_task_runs_and_nothing_of_it_is_imported():
    script = Path(__file__).resolve().parent / "run_without_openlineage.py"
    result = _probe(str(script), json.dumps({"mounts": MOUNTS, "links": LINKS}))

    assert result == {
        "installed": False,
        "status": "ready",
        "pushed": [
            "session_id",
            "session_url",
            "session_summary",
            "cloudos_linked_folders",
            "session_summary",
        ],
        "loaded": [],
    }
