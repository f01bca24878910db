"""Literal values no run could accept are refused when the task is built: a DAG import error.

Templated values (Jinja, XCom references) are unknown until the task runs and are checked after
rendering (see ``test_operator_bad_inputs.py``); here, what happens at parse time.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from airflow_provider_cloudos.operators.cloudos_task import InvalidLiteralParameter, is_templated
from airflow_provider_cloudos.operators.sessions import (
    CloudOSCreateSessionOperator,
    CloudOSResumeSessionOperator,
    CloudOSStopSessionOperator,
)
from airflow_provider_cloudos.sensors.sessions import CloudOSSessionSensor


def create(**kwargs) -> CloudOSCreateSessionOperator:
    return CloudOSCreateSessionOperator(**{"task_id": "create", "name": "n", "project_name": "p", **kwargs})


@pytest.mark.parametrize(
    ("kwargs", "named", "fix"),
    [
        ({"storage_size": 50}, "storage_size=50", "between 100 and 5000"),
        ({"session_type": "jupyterlab"}, "session_type='jupyterlab'", "jupyter"),
        ({"shutdown_in": "8 hours"}, "shutdown_in='8 hours'", "30m"),
    ],
)
def test_a_bad_literal_names_the_task_the_parameter_the_value_and_the_fix(kwargs, named, fix):
    with pytest.raises(InvalidLiteralParameter) as refused:
        create(**kwargs)
    message = str(refused.value)
    assert message.startswith("CloudOSCreateSessionOperator 'create': Invalid ")
    assert named in message
    assert fix in message
    assert "when the DAG was parsed" in message


def test_templated_values_wait_for_rendering():
    create(storage_size="{{ params.storage_size }}", session_type="{% if x %}vscode{% endif %}")
    create(name="analysis-{{ ds }}", spot="{{ params.spot }}")
    create(mounts=["genomics/Data/samples.csv", "{{ params.extra_mount }}"])
    create(project_name=None, project_id="{{ params.project_id }}")


def test_other_literals_are_still_checked_next_to_templated_ones():
    with pytest.raises(InvalidLiteralParameter, match="storage_size=50"):
        create(name="analysis-{{ ds }}", storage_size=50)


def test_an_unknown_platform_refuses_only_what_fits_no_platform():
    create(execution_platform="{{ params.platform }}", instance_type="Standard_F1s")
    create(execution_platform="{{ params.platform }}", instance_type="c5.xlarge")
    with pytest.raises(InvalidLiteralParameter, match="instance_type='Standard_F1s'"):
        create(execution_platform="aws", instance_type="Standard_F1s")
    with pytest.raises(InvalidLiteralParameter, match=r"instance_type=.c5\.huge."):
        create(execution_platform="{{ params.platform }}", instance_type="c5.huge")


def test_upstream_output_is_not_a_literal():
    import pendulum
    from airflow.providers.common.compat.sdk import DAG

    with DAG("literal_checks", schedule=None, start_date=pendulum.datetime(2025, 1, 1)):
        made = create()
        CloudOSStopSessionOperator(task_id="stop", session_id=made.output)
        CloudOSResumeSessionOperator(task_id="resume", session_id=made.output, storage_size=600)
        CloudOSSessionSensor(task_id="wait", session_id=made.output)
        with pytest.raises(InvalidLiteralParameter, match="storage_size=99"):
            CloudOSResumeSessionOperator(task_id="bad_resume", session_id=made.output, storage_size=99)
        with pytest.raises(InvalidLiteralParameter, match="target_status='sleeping'"):
            CloudOSSessionSensor(task_id="bad_wait", session_id=made.output, target_status="sleeping")


def test_what_counts_as_templated():
    assert not is_templated(None)
    assert not is_templated(500)
    assert not is_templated("plain")
    assert not is_templated(["a", "b"])
    assert is_templated("{{ ds }}")
    assert is_templated("{% raw %}x{% endraw %}")
    assert is_templated(["a", "{{ b }}"])
    assert is_templated(object())  # an XCom reference or the like


def test_a_dag_file_with_a_bad_literal_shows_in_the_import_errors(tmp_path: Path):
    try:
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # Airflow 2
        from airflow.models.dagbag import DagBag  # type: ignore[no-redef]
    from airflow_provider_cloudos.compat import AIRFLOW_V_3_0_PLUS

    dag_file = tmp_path / "bad_literal.py"
    dag_file.write_text(
        textwrap.dedent(
            """
            import pendulum
            from airflow.providers.common.compat.sdk import DAG
            from airflow_provider_cloudos.operators import CloudOSCreateSessionOperator

            with DAG("bad_literal", schedule=None, start_date=pendulum.datetime(2025, 1, 1)):
                CloudOSCreateSessionOperator(
                    task_id="create", name="analysis-{{ ds }}", project_name="genomics", storage_size=50
                )
            """
        )
    )
    extra = {} if AIRFLOW_V_3_0_PLUS else {"include_examples": False}
    bag = DagBag(dag_folder=str(tmp_path), **extra)

    assert "bad_literal" not in bag.dag_ids
    errors = {Path(path).name: message for path, message in bag.import_errors.items()}
    assert "CloudOSCreateSessionOperator 'create': Invalid storage_size=50" in errors["bad_literal.py"]
    assert "between 100 and 5000 GB" in errors["bad_literal.py"]
