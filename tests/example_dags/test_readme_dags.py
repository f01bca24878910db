"""The README's DAGs are complete files (``docs/readme_dags/``) that Airflow runs as written.

Each README block that builds a task is one of these files, character for character, and each file
is run with ``airflow dags test`` against the simulator, through the connection the simulator hands
to a user (its ``poll_interval`` extra: the files keep their production intervals, and a wait that
defers checks again after a second, not 30). The simulator's sessions change state at once here
(zero timings), so no run depends on timing; the deferrable waits themselves are covered by the
example DAGs' runs. A last run shows what a new user sees when
a create task fails: which connection is missing and how to define it, and no "XCom not found"
from the session link.
"""

from __future__ import annotations

import csv
import re
import textwrap
from pathlib import Path

import pytest
from example_dag_runs import dags_test, live_sessions

from airflow_provider_cloudos.core.status import PAUSED, RUNNING, map_status
from airflow_provider_cloudos.testing import CloudOSSimulator, StateTimings
from airflow_provider_cloudos.testing.simulator import SIMULATOR_POLL_SECONDS

REPO = Path(__file__).resolve().parents[2]
README_DAGS = REPO / "docs" / "readme_dags"
README_DAG_FILES = sorted(README_DAGS.glob("*.py"))
INSTANT = StateTimings(scheduled=0, setup=0, initialising=0, aborting=0, resume_initialising=0)


def _python_blocks(markdown: str) -> list[str]:
    return [block.strip() for block in re.findall(r"^```python\n(.*?)^```", markdown, flags=re.M | re.S)]


def _is_excerpt(block: str, source: str) -> bool:
    """Whether ``block``'s lines stand in ``source`` one after another, all indented alike."""
    wanted = textwrap.dedent(block).splitlines()
    lines = source.splitlines()
    for start, line in enumerate(lines):
        indent = line[: len(line) - len(line.lstrip())]
        window = lines[start : start + len(wanted)]
        if window == [f"{indent}{w}" if w else w for w in wanted]:
            return True
    return False


def test_every_readme_block_that_builds_tasks_is_one_of_the_files_verbatim():
    """A block is a whole file of docs/readme_dags/, or an excerpt of an example DAG the tests run."""
    blocks = _python_blocks((REPO / "README.md").read_text())
    files = {path.name: path.read_text().strip() for path in README_DAG_FILES}
    assert len(files) == 4, files.keys()
    for name, text in files.items():
        assert text in blocks, f"README.md has no block equal to docs/readme_dags/{name}"
    examples = [path.read_text() for path in sorted((REPO / "example_dags").glob("*.py"))]
    builders = [block for block in blocks if re.search(r"\b\w+(Operator|Sensor)\(", block)]
    excerpts = [block for block in builders if block not in files.values()]
    for block in excerpts:
        assert any(_is_excerpt(block, source) for source in examples), f"not from an example DAG:\n{block}"
    assert len(excerpts) == 3, excerpts  # the block, the analyst's session, the access audit


@pytest.fixture
def instant(dag_simulator: CloudOSSimulator) -> CloudOSSimulator:
    dag_simulator.set_timings(INSTANT)
    return dag_simulator


def as_a_user_connects(simulator: CloudOSSimulator, **more: str) -> dict[str, str]:
    """The environment of a run through the connection the simulator prints and the demo uses."""
    connection = simulator.connection_json(poll_interval=SIMULATOR_POLL_SECONDS)
    return {"AIRFLOW_CONN_CLOUDOS_DEFAULT": connection, **more}


def test_the_pipeline_runs_as_written(airflow_home, instant, dag_clock):
    run = dags_test(
        airflow_home,
        instant,
        dag_clock,
        "cloudos_analysis",
        dags_folder=README_DAGS,
        extra_env=as_a_user_connects(instant),
    )

    assert run.code == 0, run.tail()
    (session,) = instant.sessions()
    assert re.fullmatch(r"analysis-\d{4}-\d\d-\d\d", session["name"]), session["name"]
    assert map_status(session["status"]) == PAUSED
    assert f"Working in session {session['_id']}" in run.output, run.tail()
    payload = instant.created_payloads[0]
    assert [item.get("name") for item in payload["dataItems"]] == ["samples.csv"]
    assert [item["data"]["s3BucketName"] for item in payload["fuseFileSystems"]] == ["my-bucket"]
    assert payload["interactiveSessionConfiguration"]["instanceType"] == "c5.2xlarge"


def test_the_evening_pause_spares_the_allow_list(airflow_home, instant, dag_clock):
    forgotten = instant.add_session(name="forgotten-notebook", status="ready")["_id"]
    dashboard = instant.add_session(name="shared-dashboard", status="ready")["_id"]
    training = instant.add_session(name="long-training-7", status="ready")["_id"]

    run = dags_test(
        airflow_home,
        instant,
        dag_clock,
        "cloudos_pause_running_sessions",
        dags_folder=README_DAGS,
        extra_env=as_a_user_connects(instant),
    )

    assert run.code == 0, run.tail()
    assert map_status(instant.session(forgotten)["status"]) == PAUSED
    assert map_status(instant.session(dashboard)["status"]) == RUNNING
    assert map_status(instant.session(training)["status"]) == RUNNING


def test_the_report_writes_its_csv(airflow_home, instant, dag_clock, tmp_path):
    instant.add_session(name="costly", status="ready", cost=12.5)
    reports = tmp_path / "reports"

    run = dags_test(
        airflow_home,
        instant,
        dag_clock,
        "cloudos_session_report",
        dags_folder=README_DAGS,
        extra_env=as_a_user_connects(instant, AIRFLOW_VAR_CLOUDOS_REPORT_DIR=str(reports)),
    )

    assert run.code == 0, run.tail()
    (written,) = reports.glob("cloudos-*.csv")
    rows = list(csv.reader(written.open()))
    assert any("costly" in row for row in rows), rows


def test_the_report_runs_without_the_variable_into_the_temporary_directory(
    airflow_home, instant, dag_clock, tmp_path
):
    """A first run needs no Variable: the CSV goes to cloudos-reports in the temporary directory."""
    instant.add_session(name="costly", status="ready", cost=12.5)

    run = dags_test(
        airflow_home,
        instant,
        dag_clock,
        "cloudos_session_report",
        dags_folder=README_DAGS,
        extra_env=as_a_user_connects(instant, TMPDIR=str(tmp_path)),  # tempfile's folder, for this run
    )

    assert run.code == 0, run.tail()
    assert run.dag_run_state == "success", run.tail()
    (written,) = (tmp_path / "cloudos-reports").glob("cloudos-*.csv")
    rows = list(csv.reader(written.open()))
    assert any("costly" in row for row in rows), rows


def test_the_cost_guard_pauses_a_session_that_spent_its_limit(airflow_home, instant, dag_clock):
    spent = instant.add_session(name="spent", status="ready", cost=60)["_id"]

    run = dags_test(
        airflow_home,
        instant,
        dag_clock,
        "cloudos_cost_guard",
        conf={"session_id": spent},
        dags_folder=README_DAGS,
        extra_env=as_a_user_connects(instant),
    )

    assert run.code == 0, run.tail()
    assert map_status(instant.session(spent)["status"]) == PAUSED
    assert "reached the limit of $50.00" in run.output, run.tail()


def test_a_failed_create_explains_itself_without_misleading_noise(airflow_home, instant, dag_clock, tmp_path):
    """A missing connection is named with the variable that would define it; no link noise."""
    (tmp_path / "first_hour.py").write_text(
        textwrap.dedent(
            """
            import pendulum
            from airflow.providers.common.compat.sdk import DAG
            from airflow_provider_cloudos.operators import CloudOSCreateSessionOperator

            with DAG("first_hour", schedule=None, start_date=pendulum.datetime(2025, 1, 1)):
                CloudOSCreateSessionOperator(
                    task_id="no_connection", name="n", project_name="genomics", cloudos_conn_id="my_cloudos"
                )
                CloudOSCreateSessionOperator(task_id="no_project", name="n", project_name="genomic")
            """
        )
    )

    run = dags_test(airflow_home, instant, dag_clock, "first_hour", dags_folder=tmp_path)

    assert run.code != 0 or "state=failed" in run.output, run.tail()
    assert "The CloudOS connection 'my_cloudos' is not defined" in run.output, run.tail()
    assert "AIRFLOW_CONN_MY_CLOUDOS=" in run.output, run.tail()
    assert "Project 'genomic' was not found in the workspace; did you mean 'genomics'" in run.output
    assert "XCom not found" not in run.output, run.tail()
    assert instant.counters.requests("create") == 0
    assert live_sessions(instant) == []
