"""What a create task says: the refusals of its project parameters, the session it created, its lineage.

A refused project must name the parameter and what to give instead, before any request is sent;
a created session must be named in the log with its type, name, id and page (the line a user
searches for when the bill arrives); and a task that carried on with an earlier try's session
must still report what that session mounts and links, or say in its log why it could not.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException
from operator_helpers import FAST, FakeTaskStateStore, make_context, rendered

from airflow_provider_cloudos.core.errors import CloudOSError
from airflow_provider_cloudos.operators.cloudos_task import openlineage_installed
from airflow_provider_cloudos.operators.sessions import STATE_STORE_KEY, CloudOSCreateSessionOperator
from airflow_provider_cloudos.testing import CloudOSSimulator

NAME = "variant-calling"
#: Lineage is kept only where the OpenLineage provider is installed.
NEEDS_OPENLINEAGE = pytest.mark.skipif(
    not openlineage_installed(), reason="the openlineage extra is not installed"
)
MOUNT = "genomics/Data/samples.csv"
LINK = "s3://team-scratch/analysis/"


def create(**kwargs: Any) -> CloudOSCreateSessionOperator:
    options: dict[str, Any] = {"task_id": "create", "name": NAME, "project_name": "genomics", **FAST}
    options.update(kwargs)
    return CloudOSCreateSessionOperator(**options)


def test_a_project_id_that_is_no_id_is_refused_saying_what_an_id_looks_like(
    cloudos_conn: CloudOSSimulator,
) -> None:
    task = rendered(create, project_id="proj-42")
    with pytest.raises(AirflowFailException) as raised:
        task.execute(make_context())
    assert str(raised.value) == "Invalid project_id='proj-42': a project id is 24 hexadecimal characters"
    assert cloudos_conn.counters.requests() == 0


def test_a_task_without_a_project_is_told_to_give_its_name_or_id(cloudos_conn: CloudOSSimulator) -> None:
    task = rendered(create, project_name=None)
    with pytest.raises(AirflowFailException) as raised:
        task.execute(make_context())
    assert str(raised.value) == "Invalid project_name=None: give the project's name (or its id as project_id)"
    assert cloudos_conn.counters.requests() == 0


def test_the_created_session_is_named_in_the_log_with_its_type_id_and_page(
    cloudos_conn: CloudOSSimulator, log_messages: Callable[[], list[str]]
) -> None:
    task = create(wait_for_running=False)
    session_id = task.execute(make_context())
    url = task.hook.session_url(session_id)
    assert f"Created jupyter session {NAME!r} ({session_id}): {url}" in log_messages()


def _stored(sim: CloudOSSimulator) -> tuple[str, FakeTaskStateStore]:
    """A live session an earlier try created and kept in the task state store."""
    earlier = sim.add_session(name=NAME, status="ready")["_id"]
    store = FakeTaskStateStore()
    store.set(STATE_STORE_KEY, earlier)
    return earlier, store


@NEEDS_OPENLINEAGE
def test_carrying_on_with_a_stored_session_reports_its_mounts_and_links(
    cloudos_conn: CloudOSSimulator,
) -> None:
    earlier, store = _stored(cloudos_conn)
    task = create(mounts=[MOUNT], links=[LINK])
    context = make_context(store)
    assert task.execute(context) == earlier
    lineage = task.get_openlineage_facets_on_complete(context["ti"])
    assert [dataset.name for dataset in lineage.inputs] == [MOUNT]
    assert [(dataset.namespace, dataset.name) for dataset in lineage.outputs] == [
        ("s3://team-scratch", "analysis")
    ]
    assert lineage.run_facets["cloudosSession"].sessionId == earlier


@NEEDS_OPENLINEAGE
def test_a_path_that_no_longer_resolves_is_left_out_of_the_lineage_with_the_reason_logged(
    cloudos_conn: CloudOSSimulator, log_messages: Callable[[], list[str]]
) -> None:
    earlier, store = _stored(cloudos_conn)
    task = create(mounts=["genomics/Data/removed.csv"], links=[LINK])
    context = make_context(store)
    assert task.execute(context) == earlier  # lineage never fails the task
    lineage = task.get_openlineage_facets_on_complete(context["ti"])
    assert (lineage.inputs, lineage.outputs) == ([], [])
    with pytest.raises(CloudOSError) as why:
        task.hook.locate_mounts(["genomics/Data/removed.csv"])
    assert "Cannot mount 'genomics/Data/removed.csv'" in str(why.value)
    assert f"Lineage of the session leaves out its mounts and links: {why.value}" in log_messages()
