"""Every bad input fails before any HTTP call, with a message naming the parameter and the value."""

from __future__ import annotations

from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException, AirflowNotFoundException
from operator_helpers import make_context, rendered

from airflow_provider_cloudos.operators.cloudos_task import InvalidLiteralParameter
from airflow_provider_cloudos.operators.sessions import (
    CloudOSCreateSessionOperator,
    CloudOSResumeSessionOperator,
    CloudOSStopSessionOperator,
)

GOOD_ID = "a" * 24


def create(**kwargs: Any) -> CloudOSCreateSessionOperator:
    options = {"task_id": "create", "name": "bad", "project_name": "genomics", "poll_interval": 0.02}
    options.update(kwargs)
    return CloudOSCreateSessionOperator(**options)


def stop(**kwargs: Any) -> CloudOSStopSessionOperator:
    options = {"task_id": "stop", "session_id": GOOD_ID, "poll_interval": 0.02}
    options.update(kwargs)
    return CloudOSStopSessionOperator(**options)


def resume(**kwargs: Any) -> CloudOSResumeSessionOperator:
    options = {"task_id": "resume", "session_id": GOOD_ID, "poll_interval": 0.02}
    options.update(kwargs)
    return CloudOSResumeSessionOperator(**options)


#: (operator factory, bad parameters, the parameter the message must name, the value it must show).
BAD_INPUTS = [
    # create: the session itself
    (create, {"name": ""}, "name", "''"),
    (create, {"name": "x" * 101}, "name", "x" * 101),
    (create, {"name": 42}, "name", "42"),
    (create, {"session_type": "notebook"}, "session_type", "'notebook'"),
    (create, {"session_type": "spark", "execution_platform": "azure"}, "session_type", "spark"),
    (create, {"execution_platform": "gcp"}, "execution_platform", "'gcp'"),
    (create, {"instance_type": "c5.huge"}, "instance_type", "'c5.huge'"),
    (create, {"instance_type": "Standard_F1s"}, "instance_type", "'Standard_F1s'"),
    (create, {"instance_type": "c5.xlarge", "execution_platform": "azure"}, "instance_type", "'c5.xlarge'"),
    (create, {"storage_size": 50}, "storage_size", "50"),
    (create, {"storage_size": "6000"}, "storage_size", "'6000'"),
    (create, {"storage_size": "lots"}, "storage_size", "'lots'"),
    (create, {"spot": "maybe"}, "spot", "'maybe'"),
    (create, {"spot": True, "execution_platform": "azure"}, "spot", "True"),
    (create, {"shared": "sometimes"}, "shared", "'sometimes'"),
    (create, {"cost_limit": 0}, "cost_limit", "0"),
    (create, {"cost_limit": "cheap"}, "cost_limit", "'cheap'"),
    (create, {"shutdown_in": "12 hours"}, "shutdown_in", "'12 hours'"),
    (create, {"shutdown_in": "-1h"}, "shutdown_in", "'-1h'"),
    (create, {"mounts": ["s3://bucket-only"]}, "mounts", "s3://bucket-only"),
    (create, {"mounts": "s3://b/k.csv", "execution_platform": "azure"}, "mounts", "s3://b/k.csv"),
    (create, {"links": "az://container/folder"}, "links", "az://container/folder"),
    (create, {"links": ["s3://one/data/", "s3://two/data/"]}, "links", "s3://two/data/"),
    (create, {"links": "s3://b/p/", "execution_platform": "azure"}, "links", "s3://b/p/"),
    (create, {"session_type": "rstudio", "r_version": "3.6.0"}, "r_version", "'3.6.0'"),
    (create, {"session_type": "spark", "spark_master_type": "big"}, "spark_master_type", "'big'"),
    (create, {"session_type": "spark", "spark_core_type": "Standard_F1s"}, "spark_core_type", "Standard_F1s"),
    (create, {"session_type": "spark", "spark_workers": 0}, "spark_workers", "0"),
    (create, {"session_type": "spark", "spark_workers": "many"}, "spark_workers", "'many'"),
    # create: where and how
    (create, {"project_name": None}, "project_name", "None"),
    (create, {"project_name": "  "}, "project_name", "'  '"),
    (create, {"project_id": "123"}, "project_id", "'123'"),
    (create, {"workspace_id": "ws-1"}, "workspace_id", "'ws-1'"),
    (create, {"wait_for_running": "perhaps"}, "wait_for_running", "'perhaps'"),
    (create, {"reuse_existing": "2"}, "reuse_existing", "'2'"),
    (create, {"stop_on_kill": "sure"}, "stop_on_kill", "'sure'"),
    (create, {"poll_interval": 0}, "poll_interval", "0"),
    (create, {"poll_interval": "fast"}, "poll_interval", "'fast'"),
    (create, {"timeout": "forever"}, "timeout", "'forever'"),
    (create, {"timeout": -5}, "timeout", "-5"),
    (create, {"max_cost_usd": "lots"}, "max_cost_usd", "'lots'"),
    # stop
    (stop, {"session_id": "not-an-id"}, "session_id", "'not-an-id'"),
    (stop, {"session_id": None}, "session_id", "None"),
    (stop, {"upload_on_close": "maybe"}, "upload_on_close", "'maybe'"),
    (stop, {"force": "x"}, "force", "'x'"),
    (stop, {"wait_for_paused": "?"}, "wait_for_paused", "'?'"),
    (stop, {"accept_terminated": "nah"}, "accept_terminated", "'nah'"),
    (stop, {"timeout": "0s"}, "timeout", "'0s'"),
    (stop, {"workspace_id": "b" * 23}, "workspace_id", "b" * 23),
    # resume
    (resume, {"session_id": "abc"}, "session_id", "'abc'"),
    (resume, {"session_id": GOOD_ID + "0"}, "session_id", GOOD_ID + "0"),
    (resume, {"instance_type": "c5.xlargeish"}, "instance_type", "'c5.xlargeish'"),
    (resume, {"instance_type": "Standard_"}, "instance_type", "'Standard_'"),
    (resume, {"storage_size": 99}, "storage_size", "99"),
    (resume, {"cost_limit": -5}, "cost_limit", "-5"),
    (resume, {"shutdown_in": "1w"}, "shutdown_in", "'1w'"),
    (resume, {"mounts": "ftp://host/file.csv"}, "mounts", "ftp://host/file.csv"),
    (resume, {"links": "https://acct.blob.core.windows.net/c/p"}, "links", "blob.core.windows.net"),
    (resume, {"wait_for_running": "ja"}, "wait_for_running", "'ja'"),
    (resume, {"stop_on_kill": "nein"}, "stop_on_kill", "'nein'"),
    (resume, {"poll_interval": -1}, "poll_interval", "-1"),
    (resume, {"max_runtime": "forever"}, "max_runtime", "'forever'"),
]


@pytest.mark.parametrize(
    ("factory", "kwargs", "parameter", "value"),
    BAD_INPUTS,
    ids=[
        f"{factory.__name__}-{parameter}-{index}"
        for index, (factory, _, parameter, _) in enumerate(BAD_INPUTS)
    ],
)
def test_bad_input_fails_before_any_request_naming_parameter_and_value(
    cloudos_conn, factory, kwargs, parameter, value
):
    """Rendered from templates, a bad value is refused by ``execute``, before any request."""
    task = rendered(factory, **kwargs)
    with pytest.raises(AirflowFailException) as raised:
        task.execute(make_context())
    message = str(raised.value)
    assert f"{parameter}=" in message, message
    assert value in message, message
    assert cloudos_conn.counters.requests() == 0


@pytest.mark.parametrize(
    ("factory", "kwargs", "parameter", "value"),
    BAD_INPUTS,
    ids=[
        f"{factory.__name__}-{parameter}-{index}"
        for index, (factory, _, parameter, _) in enumerate(BAD_INPUTS)
    ],
)
def test_bad_literal_is_refused_when_the_task_is_built(factory, kwargs, parameter, value):
    """Written straight into a DAG file, the same value is a DAG import error naming it."""
    with pytest.raises(InvalidLiteralParameter) as raised:
        factory(**kwargs)
    message = str(raised.value)
    assert f"{parameter}=" in message, message
    assert value in message, message
    assert f"'{factory.__name__}'" in message  # the task id


def test_there_are_enough_different_bad_inputs():
    assert len({(factory.__name__, repr(kwargs)) for factory, kwargs, _, _ in BAD_INPUTS}) >= 25
    assert {factory.__name__ for factory, _, _, _ in BAD_INPUTS} == {"create", "stop", "resume"}


def test_an_unknown_connection_fails_before_any_request(cloudos_conn):
    with pytest.raises(AirflowNotFoundException, match="no_such_conn") as raised:
        stop(cloudos_conn_id="no_such_conn").execute(make_context())
    assert "AIRFLOW_CONN_NO_SUCH_CONN" in str(raised.value)
    assert cloudos_conn.counters.requests() == 0
