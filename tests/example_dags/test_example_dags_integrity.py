"""Every example DAG imports cleanly: no import error, no warning, no network, no connection.

The import check runs in a fresh interpreter (a warning fires only on a module's first import,
so the test process, which has imported half of Airflow already, would hide some) with every
warning turned into an error and sockets refusing to connect. The structure checks run here.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from typing import Any

import pytest
from example_dag_runs import EXAMPLE_DAG_IDS, EXAMPLE_DAGS

from airflow_provider_cloudos.testing.demo import airflow_environment

_CLEAN_IMPORT = textwrap.dedent(
    """
    import json, socket, sys, warnings

    import airflow  # Airflow's own start-up is not what is checked here
    from airflow_provider_cloudos.compat import AIRFLOW_V_3_0_PLUS

    try:
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # Airflow 2
        from airflow.models.dagbag import DagBag

    def refuse(*args, **kwargs):
        raise OSError("network access while parsing the example DAGs")

    socket.socket.connect = refuse
    socket.create_connection = refuse
    socket.getaddrinfo = refuse
    report = {"errors": {}, "warnings": [], "dag_ids": []}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("error")
        try:
            extra = {} if AIRFLOW_V_3_0_PLUS else {"include_examples": False}
            bag = DagBag(dag_folder=sys.argv[1], **extra)
        except Exception as error:  # a re-raised captured warning
            report["errors"]["<DagBag>"] = repr(error)
        else:
            report["errors"] = {str(path): str(message) for path, message in bag.import_errors.items()}
            report["warnings"] = [w for ws in bag.captured_warnings.values() for w in ws]
            report["dag_ids"] = sorted(bag.dag_ids)
    report["warnings"] += [f"{w.category.__name__}: {w.message}" for w in caught]
    print("REPORT " + json.dumps(report))
    """
)


@pytest.fixture(scope="module")
def clean_import_report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    home = tmp_path_factory.mktemp("dag-integrity-airflow-home")
    env = airflow_environment(home, EXAMPLE_DAGS, None)
    result = subprocess.run(
        [sys.executable, "-c", _CLEAN_IMPORT, str(EXAMPLE_DAGS)],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith("REPORT ")]
    explained = f"exit code {result.returncode}\n{result.stdout}\n{result.stderr}"
    assert result.returncode == 0, explained
    assert lines, explained
    return dict(json.loads(lines[-1][len("REPORT ") :]))


def test_example_dags_import_without_errors(clean_import_report):
    assert clean_import_report["errors"] == {}


def test_example_dags_import_without_warnings(clean_import_report):
    assert clean_import_report["warnings"] == []


def test_example_dags_are_all_found(clean_import_report):
    assert set(clean_import_report["dag_ids"]) == EXAMPLE_DAG_IDS


@pytest.fixture(scope="module")
def dags() -> dict[str, Any]:
    try:
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # pragma: no cover - Airflow 2
        from airflow.models.dagbag import DagBag  # type: ignore[no-redef]
    bag = DagBag(dag_folder=str(EXAMPLE_DAGS))
    assert bag.import_errors == {}
    return dict(bag.dags)


def test_every_example_dag_is_tagged_and_documented(dags):
    for dag_id, dag in dags.items():
        assert "cloudos" in dag.tags, dag_id
        assert dag.doc_md, dag_id


def test_pipeline_pauses_the_session_as_a_teardown(dags):
    dag = dags["example_cloudos_pipeline"]
    stop, create = dag.get_task("stop"), dag.get_task("create")
    assert stop.is_teardown
    assert create.is_setup
    assert "create" in stop.upstream_task_ids
    assert "use_session" in stop.upstream_task_ids


def test_every_wait_is_deferrable(dags):
    waiting = {
        ("example_cloudos_pipeline", "wait_until_running"),
        ("example_cloudos_pipeline", "stop"),
        ("example_cloudos_on_demand", "create"),
        ("example_cloudos_on_demand", "stop"),
        ("example_cloudos_working_hours_resume", "resume"),
        ("example_cloudos_working_hours_pause", "pause"),
        ("example_cloudos_session_block", "analysis.create"),
        ("example_cloudos_session_block", "analysis.pause"),
        ("example_cloudos_analyst_session", "analyst_session.create"),
        ("example_cloudos_analyst_session", "analyst_session.pause"),
        ("example_cloudos_results_producer", "create"),
        ("example_cloudos_results_producer", "stop"),
    }
    for dag_id, task_id in waiting:
        assert dags[dag_id].get_task(task_id).deferrable is True, (dag_id, task_id)


def test_the_session_block_example_is_one_group_with_its_lifecycle(dags):
    dag = dags["example_cloudos_session_block"]
    assert set(dag.task_ids) == {
        "analysis.create",
        "analysis.report",
        "analysis.summarize",
        "analysis.guard",
        "analysis.pause",
    }
    assert list(dag.task_group.children) == ["analysis"]
    assert dag.get_task("analysis.create").is_setup
    pause = dag.get_task("analysis.pause")
    assert pause.is_teardown
    assert pause.upstream_task_ids == {"analysis.create", "analysis.summarize"}
    assert dag.get_task("analysis.guard").upstream_task_ids == {"analysis.create"}


def test_the_analyst_example_waits_for_the_analyst_in_its_block(dags):
    from airflow.providers.common.compat.version_compat import AIRFLOW_V_3_1_PLUS

    dag = dags["example_cloudos_analyst_session"]
    wait = dag.get_task("analyst_session.analyst_done")
    assert wait.upstream_task_ids == {"analyst_session.create"}
    assert "analyst_session.analyst_done" in dag.get_task("analyst_session.pause").upstream_task_ids
    assert dag.get_task("analyst_session.guard").body_task_ids == ["analyst_session.analyst_done"]
    if AIRFLOW_V_3_1_PLUS:  # human in the loop: the session's URL in the request, "Done" at the deadline
        assert type(wait).__name__ == "HITLOperator"
        assert "key='session_url'" in wait.body
        assert (wait.options, wait.defaults) == (["Done"], ["Done"])
        assert wait.response_timeout is not None
    else:  # before 3.1: wait until the analyst pauses the session, give up quietly at the deadline
        assert type(wait).__name__ == "CloudOSSessionSensor"
        assert wait.soft_fail is True


def test_the_results_pipeline_is_scheduled_on_the_folder_the_producers_session_links(dags):
    from airflow.providers.common.compat.sdk import Asset, AssetAlias

    from airflow_provider_cloudos.operators.cloudos_task import RESULTS_ALIAS

    producer, pipeline = dags["example_cloudos_results_producer"], dags["example_cloudos_results_pipeline"]
    create, stop = producer.get_task("create"), producer.get_task("stop")
    assert stop.is_teardown
    assert stop.upload_on_close == "{{ params.save_results }}"
    # The stop task records the saved folders through the alias: no outlets written in the DAG.
    assert stop.outlets == [AssetAlias(name=RESULTS_ALIAS)]
    timetable = pipeline.timetable  # 3.x: an asset condition; 2.11: a dataset condition
    condition = getattr(timetable, "asset_condition", None) or timetable.dataset_condition
    assert [asset.uri for asset in condition.objects] == [Asset(create.links[0]).uri]
    assert create.links[0] == "s3://team-results/rnaseq/"


def test_on_demand_params_are_typed(dags):
    params = dags["example_cloudos_on_demand"].params
    schemas = {name: params.get_param(name).schema for name in params}
    assert schemas["session_type"]["enum"] == ["jupyter", "vscode", "rstudio", "spark"]
    assert schemas["instance_type"]["type"] == "string"
    assert (schemas["storage_size"]["type"], schemas["storage_size"]["minimum"]) == ("integer", 100)
    assert schemas["storage_size"]["maximum"] == 5000
    assert schemas["shutdown_in"]["type"] == "string"
    assert "pattern" in schemas["shutdown_in"]


def test_working_hours_run_on_weekday_mornings_and_evenings(dags):
    resume = dags["example_cloudos_working_hours_resume"]
    pause = dags["example_cloudos_working_hours_pause"]
    assert _cron(resume) == "0 8 * * 1-5"
    assert _cron(pause) == "0 20 * * 1-5"
    for dag in (resume, pause):
        assert dag.params["session_id"] is None  # parses and schedules with no id set


def _cron(dag: Any) -> str:
    """The cron expression (the SDK's timetable calls it ``expression``, Airflow 2's ``_expression``)."""
    timetable = dag.timetable
    for attribute in ("expression", "_expression", "summary"):
        if getattr(timetable, attribute, None):
            return str(getattr(timetable, attribute))
    return repr(timetable)
