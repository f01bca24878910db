from __future__ import annotations

from typing import Any

import pytest
from airflow.providers.common.compat.sdk import XCom

from airflow_provider_cloudos.links import XCOM_SESSION_URL, CloudOSSessionLink
from airflow_provider_cloudos.operators.sessions import (
    CloudOSCreateSessionOperator,
    CloudOSResumeSessionOperator,
    CloudOSStopSessionOperator,
)
from airflow_provider_cloudos.provider_info import get_provider_info

URL = "https://cloudos.example.org/app/data-science/interactive-analysis/view/" + "a" * 24
TI_KEY = object()


@pytest.fixture
def xcom_reads(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Replace XCom reads with a dict; records each read's arguments."""
    store: dict[str, Any] = {"values": {}, "reads": []}

    def get_value(*, ti_key: Any, key: str | None = None, **kwargs: Any) -> Any:
        store["reads"].append((ti_key, key))
        return store["values"].get(key)

    monkeypatch.setattr(XCom, "get_value", get_value)
    return store


def operator() -> CloudOSStopSessionOperator:
    return CloudOSStopSessionOperator(task_id="stop", session_id="a" * 24)


def test_the_link_is_the_url_the_operator_pushed(xcom_reads):
    xcom_reads["values"][XCOM_SESSION_URL] = URL
    assert CloudOSSessionLink().get_link(operator(), ti_key=TI_KEY) == URL
    assert xcom_reads["reads"] == [(TI_KEY, XCOM_SESSION_URL)]


@pytest.mark.parametrize("pushed", [None, 42, {"url": URL}])
def test_no_usable_url_means_no_link(xcom_reads, pushed):
    xcom_reads["values"][XCOM_SESSION_URL] = pushed
    assert CloudOSSessionLink().get_link(operator(), ti_key=TI_KEY) == ""


def test_the_link_has_a_name_the_ui_shows():
    assert CloudOSSessionLink().name == "CloudOS Session"


def test_every_session_operator_offers_the_link_also_once_serialized():
    import pendulum
    from airflow.providers.common.compat.sdk import DAG

    from airflow_provider_cloudos.testing.airflow_helpers import deserialize_dag, serialize_dag

    with DAG("links", schedule=None, start_date=pendulum.datetime(2024, 1, 1)) as dag:
        create = CloudOSCreateSessionOperator(task_id="create", name="s", project_name="p")
        resume = CloudOSResumeSessionOperator(task_id="resume", session_id=create.output)
        stop = CloudOSStopSessionOperator(task_id="stop", session_id=create.output)
        create >> resume >> stop
    for task in (create, resume, stop):
        assert [type(link) for link in task.operator_extra_links] == [CloudOSSessionLink]
    serialized = deserialize_dag(serialize_dag(dag))
    for task_id in ("create", "resume", "stop"):
        assert serialized.get_task(task_id).extra_links == ["CloudOS Session"]


def test_the_link_is_registered_in_the_provider_info():
    assert "airflow_provider_cloudos.links.CloudOSSessionLink" in get_provider_info()["extra-links"]


class _TI:
    def __init__(self) -> None:
        self.pushed: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed[key] = value


def test_a_create_that_made_no_session_shows_no_link_and_reads_no_xcom(xcom_reads, cloudos_conn):
    """No "XCom not found" after a failed create: the operator that ran knows it published nothing."""
    from airflow.providers.common.compat.sdk import AirflowException

    task = CloudOSCreateSessionOperator(task_id="create", name="s", project_name="no-such-project")
    with pytest.raises(AirflowException, match="no-such-project"):
        task.execute({"ti": _TI()})

    assert CloudOSSessionLink().get_link(task, ti_key=TI_KEY) == ""
    assert xcom_reads["reads"] == []


def test_the_operator_that_published_a_session_links_to_it_without_a_read(xcom_reads, cloudos_conn):
    session_id = cloudos_conn.add_session(name="s", status="aborted")["_id"]
    task = CloudOSStopSessionOperator(task_id="stop", session_id=session_id)
    ti = _TI()
    task.execute({"ti": ti})

    assert CloudOSSessionLink().get_link(task, ti_key=TI_KEY) == ti.pushed[XCOM_SESSION_URL]
    assert ti.pushed[XCOM_SESSION_URL].endswith(session_id)
    assert xcom_reads["reads"] == []
