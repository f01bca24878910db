"""The one-command demo: its output filter, its environment, and whole runs (green and failing)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from example_dag_runs import EXAMPLE_DAG_IDS, EXAMPLE_DAGS

from airflow_provider_cloudos.testing import demo
from airflow_provider_cloudos.testing.demo import (
    StoryFilter,
    airflow_environment,
    check_dag_id,
    dag_ids_in,
    find_dags_folder,
    main,
)

DEMO_TIMEOUT_SECONDS = 300
PROVIDER = "airflow_provider_cloudos"
URL = "http://127.0.0.1:4000/app/data-science/interactive-analysis/view/0123456789abcdef01234567"


def _record(message: str, logger: str, level: str = "info", rest: str = "") -> str:
    return f"2026-01-01T00:00:00.000000Z [{level:<9}] {message} [{logger}] loc=x.py:1{rest}\n"


def test_story_keeps_tasks_states_provider_lines_prints_and_the_result():
    story = StoryFilter()
    lines = [
        _record("Filling up the DagBag from /dags", "airflow.dag_processing.dagbag"),
        _record("[DAG TEST] starting task_id=create map_index=-1", "airflow.sdk.definitions.dag"),
        _record(
            f"Created jupyter session 'x' (id): {URL}", "airflow.task.operators.airflow_provider_cloudos.x"
        ),
        _record("Task instance state updated", "airflow.api_fastapi", rest=" new_state=deferred rows=1"),
        _record("[DAG TEST] running trigger in line", "airflow.sdk.definitions.dag"),
        _record(f"Session s is setup after 0s ({URL})", "airflow_provider_cloudos.triggers.sessions.T"),
        _record(f"Session s is running after 2s ({URL})", "airflow_provider_cloudos.triggers.sessions.T"),
        _record(f"Pausing session s: {URL}", f"airflow.task.operators.{PROVIDER}.x"),
        "Working in session s\n",
        _record(
            "DagRun Finished: dag_id=d, run_id=r, state=success, run_type=manual", "airflow.models.dagrun"
        ),
    ]

    shown = [story(line) for line in lines]

    assert shown == [
        None,
        "> task create",
        f"    Created jupyter session 'x' (id): {URL}",
        "  create: deferred",
        "  create: trigger running inline (Airflow's triggerer code path)",
        "    Session s is setup after 0s",  # the URL once is enough
        "    Session s is running after 2s",
        "    Pausing session s",
        "    Working in session s",
        "DAG run d: success",
    ]
    assert story.run_state == "success"


def test_story_reads_airflow_2_records_once_each():
    story = StoryFilter()
    lines = [
        "[2026-01-01T00:00:00.000+0000] {dag.py:4396} INFO - [DAG TEST] starting task_id=stop map_index=-1\n",
        "[2026-01-01 00:00:00,001] {sessions.py:778} INFO - Pausing session s (was running)\n",
        "[2026-01-01T00:00:00.001+0000] {sessions.py:778} INFO - Pausing session s (was running)\n",
        "[2026-01-01T00:00:00.002+0000] {taskinstance.py:288} INFO - Pausing task as DEFERRED. dag_id=d\n",
        "[2026-01-01T00:00:00.003+0000] {dag.py:4403} INFO - [DAG TEST] running trigger in line\n",
        "[2026-01-01T00:00:02.000+0000] {taskinstance.py:361} INFO - Marking task as SUCCESS. dag_id=d\n",
        "[2026-01-01T00:00:02.100+0000] {dagrun.py:905} INFO - DagRun Finished: dag_id=d, state=success\n",
    ]

    shown = [line for line in map(story, lines) if line is not None]

    assert shown == [
        "> task stop",
        "    Pausing session s (was running)",
        "  stop: deferred",
        "  stop: trigger running inline (Airflow's triggerer code path)",
        "  stop: success",
        "DAG run d: success",
    ]


def test_story_drops_multi_line_noise_but_shows_errors():
    story = StoryFilter()
    warning = "2026-01-01T00:00:00Z [warning  ] Could not import graphviz. Rendering graph is off.\n"

    assert story(warning) is None
    assert story("You might need to install the graphviz package.\n") is None
    assert story(_record("Task failed with exception", "task", level="error")) == (
        "  ERROR Task failed with exception"
    )
    assert story("2026-01-01T00:00:00Z [error    ] broken record without a logger\n") == (
        "  ERROR broken record without a logger"
    )
    assert story("Traceback (most recent call last):\n") == "    Traceback (most recent call last):"


def test_environment_drops_the_callers_airflow_settings(tmp_path):
    base = {"PATH": "/bin", "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor", "AIRFLOW_CONN_X": "x://"}

    env = airflow_environment(tmp_path, EXAMPLE_DAGS, '{"conn_type": "cloudos"}', base=base)

    assert env["PATH"] == "/bin"
    assert "AIRFLOW__CORE__EXECUTOR" not in env
    assert "AIRFLOW_CONN_X" not in env
    assert env["AIRFLOW_HOME"] == str(tmp_path)
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == str(EXAMPLE_DAGS)
    assert env["AIRFLOW_CONN_CLOUDOS_DEFAULT"] == '{"conn_type": "cloudos"}'
    assert "127.0.0.1" in env["NO_PROXY"]
    assert "AIRFLOW_CONN_CLOUDOS_DEFAULT" not in airflow_environment(tmp_path, EXAMPLE_DAGS, None, base=base)


def test_any_dags_folder_is_taken_and_a_missing_one_is_refused_naming_it(tmp_path):
    assert find_dags_folder(str(tmp_path)) == tmp_path  # no example file needed: the user's own DAGs
    assert find_dags_folder(None) == EXAMPLE_DAGS
    missing = tmp_path / "nope"
    with pytest.raises(SystemExit, match=f"--dags-folder '{missing}' is not a folder"):
        find_dags_folder(str(missing))
    with pytest.raises(SystemExit, match="is not a folder"):
        main(["--dags-folder", str(missing)])


def _nothing_may_start(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make starting the simulator or any ``airflow`` command (``db migrate``...) a test failure."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("started although the DAG id was already known to be wrong")

    monkeypatch.setattr(demo, "CloudOSSimulator", refuse)
    monkeypatch.setattr(demo, "run_airflow", refuse)


def test_an_unknown_dag_id_fails_at_once_listing_the_dags_there(monkeypatch):
    _nothing_may_start(monkeypatch)
    with pytest.raises(SystemExit) as refused:
        main(["--dag-id", "example_cloudos_pipline"])
    message = str(refused.value.code)
    assert message.startswith(f"error: no DAG with the id 'example_cloudos_pipline' in {EXAMPLE_DAGS}.")
    assert f"The DAG ids there: {', '.join(sorted(EXAMPLE_DAG_IDS))}." in message
    assert "[" not in message


def test_the_dag_ids_of_the_examples_are_read_without_running_them():
    found = dag_ids_in(EXAMPLE_DAGS)
    assert found.complete
    assert found.ids == EXAMPLE_DAG_IDS


def test_dag_ids_are_read_from_every_usual_form(tmp_path):
    (tmp_path / "forms.py").write_text(
        "from airflow.sdk import DAG, dag\n"
        'NAMED = "by_constant"\n'
        'with DAG(dag_id="by_keyword"): pass\n'
        'DAG("by_position")\n'
        "DAG(dag_id=NAMED)\n"
        "@dag(schedule=None)\n"
        "def by_function_name(): pass\n"
        '@dag(dag_id="by_decorator")\n'
        "def ignored_name(): pass\n",
        encoding="utf-8",
    )
    (tmp_path / "helper.py").write_text("VALUE = 1  # no DAG here, not read\n", encoding="utf-8")
    found = dag_ids_in(tmp_path)
    assert found.ids == {"by_constant", "by_keyword", "by_position", "by_function_name", "by_decorator"}
    assert found.complete
    with pytest.raises(SystemExit, match="The DAG ids there: by_constant, by_decorator, by_function_name"):
        check_dag_id("missing", tmp_path)
    check_dag_id("by_position", tmp_path)  # known: no refusal


def test_an_id_built_at_run_time_leaves_the_decision_to_airflow(tmp_path, monkeypatch):
    (tmp_path / "dynamic.py").write_text(
        "from airflow.sdk import DAG\nfor team in ('a', 'b'):\n    DAG(dag_id=f'report_{team}')\n",
        encoding="utf-8",
    )
    assert not dag_ids_in(tmp_path).complete
    check_dag_id("report_a", tmp_path)  # may exist: not refused


def test_timings_choices_are_the_simulators_and_quick_still_works():
    from airflow_provider_cloudos.testing.__main__ import build_parser as simulator_parser
    from airflow_provider_cloudos.testing.demo import build_parser as demo_parser

    def choices(parser):
        return next(action.choices for action in parser._actions if action.dest == "timings")

    assert choices(demo_parser()) == choices(simulator_parser()) == ["demo", "fast"]
    assert demo_parser().parse_args(["--timings", "quick"]).timings == "fast"


def _demo(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "airflow_provider_cloudos.demo", "--timings", "fast", *arguments],
        capture_output=True,
        text=True,
        timeout=DEMO_TIMEOUT_SECONDS,
        check=False,
        start_new_session=True,
    )


def test_demo_runs_the_pipeline_green_and_tells_the_story():
    result = _demo()

    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    for expected in (
        "airflow dags test example_cloudos_pipeline",
        "> task create",
        "Created jupyter session",
        "/app/data-science/interactive-analysis/view/",
        "> task wait_until_running",
        "is running",
        "> task stop",
        "paused",
        "DAG run example_cloudos_pipeline: success",
        "1 session(s) created, none left running",
        "Demo finished green.",
    ):
        assert expected in out, out
    home = next(line.split()[2] for line in out.splitlines() if line.startswith("Airflow home"))
    assert not Path(home).exists()  # the throwaway home is gone


FAILING_DAG = """
import pendulum
from airflow.providers.common.compat.sdk import DAG, task

with DAG(dag_id="fails_on_purpose", schedule=None, start_date=pendulum.datetime(2025, 1, 1, tz="UTC")):

    @task
    def boom() -> None:
        raise RuntimeError("broken on purpose")

    boom()
"""


def test_demo_exits_non_zero_and_shows_airflows_output_when_the_run_fails(tmp_path):
    (tmp_path / "failing.py").write_text(FAILING_DAG, encoding="utf-8")
    result = _demo("--dags-folder", str(tmp_path), "--dag-id", "fails_on_purpose")

    assert result.returncode == 1, result.stdout + result.stderr
    assert "airflow dags test failed" in result.stdout
    assert "broken on purpose" in result.stdout  # Airflow's own explanation, from the log's tail
    kept = result.stderr.split("Full Airflow log kept at ", 1)[1].split()[0]
    assert Path(kept).is_file()
    Path(kept).unlink()
