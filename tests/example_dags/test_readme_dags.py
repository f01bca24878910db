"""The DAGs the README and the documentation show are complete files that Airflow runs as written.

Every DAG a reader sees comes from a real file: the README's one complete DAG is a file of
``docs/readme_dags/``, character for character, and the documentation site (``docs/``, built by
``make docs``) shows DAG code only through ``literalinclude`` of ``docs/readme_dags/`` or
``example_dags/`` files, never as a pasted copy. Each ``docs/readme_dags`` file is run here with
``airflow dags test`` against the simulator, through the connection the simulator hands to a user
(its ``poll_interval`` extra: the files keep their production intervals, and a wait that defers
checks again after a second, not 30). The simulator's sessions change state at once here (zero
timings), so no run depends on timing; the deferrable waits themselves are covered by the example
DAGs' runs. A last run shows what a new user sees when a create task fails: which connection is
missing and how to define it, and no "XCom not found" from the session link.
"""

from __future__ import annotations

import csv
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest
from example_dag_runs import dags_test, live_sessions

from airflow_provider_cloudos.core.status import PAUSED, RUNNING, map_status
from airflow_provider_cloudos.testing import CloudOSSimulator, StateTimings
from airflow_provider_cloudos.testing.simulator import SIMULATOR_POLL_SECONDS

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
README_DAGS = DOCS / "readme_dags"
README_DAG_FILES = sorted(README_DAGS.glob("*.py"))
EXAMPLE_DAGS = REPO / "example_dags"
INSTANT = StateTimings(scheduled=0, setup=0, initialising=0, aborting=0, resume_initialising=0)
#: A code block that builds a task: an operator or sensor call.
BUILDS_TASKS = re.compile(r"\b\w+(Operator|Sensor)\(")
#: The literalinclude options that show part of a file; each names text the file must hold.
SELECTIONS = ("start-at", "start-after", "end-at", "end-before", "pyobject", "lines")


def _python_blocks(markdown: str) -> list[str]:
    return [block.strip() for block in re.findall(r"^```python\n(.*?)^```", markdown, flags=re.M | re.S)]


@dataclass(frozen=True)
class Include:
    """One ``literalinclude`` of a documentation page: the page, the file it shows, its options."""

    page: Path
    target: Path
    options: dict[str, str]

    @property
    def whole(self) -> bool:
        return not any(option in self.options for option in SELECTIONS)


def _doc_pages() -> list[Path]:
    return sorted(path for path in DOCS.rglob("*.md") if "_build" not in path.relative_to(DOCS).parts)


def _includes(page: Path) -> list[Include]:
    """The MyST ``{literalinclude}`` directives of ``page``, their paths resolved as Sphinx does."""
    found = []
    pattern = r"^```\{literalinclude\}[ \t]+(\S+)[ \t]*\n((?:[ \t]*:[\w-]+:.*\n)*)"
    for match in re.finditer(pattern, page.read_text(), flags=re.M):
        name, option_lines = match.groups()
        options = {}
        for line in option_lines.splitlines():
            key, _, value = line.strip()[1:].partition(":")
            options[key] = value.strip().strip('"')
        # A leading / is the documentation's source folder; anything else is relative to the page.
        base = DOCS if name.startswith("/") else page.parent
        found.append(Include(page, (base / name.lstrip("/")).resolve(), options))
    return found


def _all_includes() -> list[Include]:
    return [include for page in _doc_pages() for include in _includes(page)]


def test_the_readme_shows_one_complete_dag_and_it_is_a_file_verbatim():
    """The README's only block that builds tasks is a whole file of docs/readme_dags/, unchanged."""
    blocks = _python_blocks((REPO / "README.md").read_text())
    files = {path.name: path.read_text().strip() for path in README_DAG_FILES}
    assert len(files) == 4, files.keys()
    builders = [block for block in blocks if BUILDS_TASKS.search(block)]
    assert len(builders) == 1, f"the README shows {len(builders)} DAGs; its landing page shows one"
    assert builders[0] in files.values(), (
        f"README.md's DAG is not a docs/readme_dags/ file as it is:\n{builders[0]}"
    )


def test_every_readme_dag_file_is_shown_whole_in_the_docs():
    shown_whole = {include.target for include in _all_includes() if include.whole}
    for path in README_DAG_FILES:
        assert path.resolve() in shown_whole, f"no page of docs/ includes docs/readme_dags/{path.name} whole"


def test_every_literalinclude_shows_a_dag_file_that_exists_and_holds_the_selected_text():
    includes = _all_includes()
    assert len(includes) >= len(README_DAG_FILES), includes
    for include in includes:
        where = f"{include.page.relative_to(REPO)}: {include.target}"
        assert include.target.is_file(), f"{where} does not exist"
        assert include.target.parent in (README_DAGS, EXAMPLE_DAGS), f"{where} is not a DAG file"
        text = include.target.read_text()
        for option in ("start-at", "start-after", "end-at", "end-before"):
            if option in include.options:
                assert include.options[option] in text, (
                    f"{where}: {option} {include.options[option]!r} not found"
                )
        if "pyobject" in include.options:
            name = include.options["pyobject"].rpartition(".")[2]
            assert re.search(rf"^\s*(class|def|async def) {name}\b", text, flags=re.M), where


def test_the_docs_paste_no_dag_code():
    """DAG code on a documentation page comes from a file (literalinclude), never from a pasted block."""
    for page in _doc_pages():
        for block in _python_blocks(page.read_text()):
            assert not BUILDS_TASKS.search(block), f"{page.relative_to(REPO)} pastes DAG code:\n{block}"


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
