"""Bad input table: every refusal names the parameter and the value, and costs zero HTTP requests.

Each row is a value a DAG author could plausibly write (after templating), given to an
operator, the sensor or the hook. The harness asserts, for each: the task fails fast (bad
input is ``AirflowFailException``: retrying cannot fix it), the message names the parameter and
shows the value, and the simulator saw no request and no connection at all.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException
from reliability_helpers import Artefacts, FakeTI, record

from airflow_provider_cloudos.hooks.cloudos import CloudOSHook
from airflow_provider_cloudos.operators.cloudos_task import InvalidLiteralParameter
from airflow_provider_cloudos.operators.sessions import (
    CloudOSCreateSessionOperator,
    CloudOSResumeSessionOperator,
    CloudOSStopSessionOperator,
)
from airflow_provider_cloudos.sensors.sessions import CloudOSSessionSensor
from airflow_provider_cloudos.testing import CloudOSSimulator

SESSION_ID = "a" * 24


@dataclass(frozen=True)
class Case:
    target: str
    overrides: dict[str, Any]
    parameter: str
    #: Text of the value that the message must show; default: ``repr`` of the override.
    shows: str | None = None

    @property
    def id(self) -> str:
        if self.target == "hook":
            return f"hook-{self.overrides['method']}-{self.parameter}"
        if self.target == "connection":
            return f"connection-{self.parameter}"
        return f"{self.target}-{self.parameter}-{str(self.overrides.get(self.parameter))[:20]}"

    def value_text(self) -> str:
        if self.shows is not None:
            return self.shows
        return repr(self.overrides[self.parameter])


def create(parameter: str, value: Any, shows: str | None = None, **extra: Any) -> Case:
    return Case("create", {parameter: value, **extra}, parameter, shows)


def stop(parameter: str, value: Any, shows: str | None = None) -> Case:
    return Case("stop", {parameter: value}, parameter, shows)


def resume(parameter: str, value: Any, shows: str | None = None, **extra: Any) -> Case:
    return Case("resume", {parameter: value, **extra}, parameter, shows)


def sensor(parameter: str, value: Any, shows: str | None = None) -> Case:
    return Case("sensor", {parameter: value}, parameter, shows)


def connection(parameter: str, shows: str, **fields: Any) -> Case:
    """A connection with one bad field; the hook refuses it when it reads it."""
    return Case("connection", fields, parameter, shows)


def hook_call(method: str, parameter: str, shows: str, *args: Any, **kwargs: Any) -> Case:
    return Case("hook", {"method": method, "args": args, "kwargs": kwargs}, parameter, shows)


CASES: list[Case] = [
    # The create operator: every field of a session's configuration, and the waiting knobs.
    create("name", ""),
    create("name", "x" * 101),
    create("name", 42),
    create("session_type", "emacs"),
    create("execution_platform", "gcp"),
    create("instance_type", "c5.huge"),
    create("instance_type", "Standard_F1s"),
    create("storage_size", 50),
    create("storage_size", 6000),
    create("storage_size", "lots"),
    create("spot", "maybe"),
    create("shared", "perhaps"),
    create("cost_limit", "free"),
    create("cost_limit", -5),
    create("shutdown_in", "forever"),
    create("spot", True, execution_platform="azure"),
    create("session_type", "spark", execution_platform="azure"),
    create("r_version", "3.6.0", session_type="rstudio"),
    create("spark_workers", 0, session_type="spark"),
    create("spark_workers", "many", session_type="spark"),
    create("spark_master_type", "huge", session_type="spark"),
    create("mounts", ["s3://bucket-only"], shows="s3://bucket-only"),
    create("links", ["az://container/folder"], shows="az://container/folder"),
    create("links", ["s3://bucket/prefix/"], shows="s3://bucket/prefix/", execution_platform="azure"),
    create("project_id", "12345"),
    Case("create", {"project_id": None, "project_name": None}, "project_name", "None"),
    create("workspace_id", "not-hex"),
    create("wait_for_running", "sometimes"),
    create("reuse_existing", "often"),
    create("stop_on_kill", "never-ever"),
    create("poll_interval", 0),
    create("poll_interval", "soon"),
    create("timeout", "tomorrow"),
    create("timeout", -1),
    # The stop operator.
    stop("session_id", "abc123"),
    stop("session_id", ""),
    stop("upload_on_close", "maybe"),
    stop("force", "sure"),
    stop("wait_for_paused", "eventually"),
    stop("accept_terminated", "hmm"),
    stop("workspace_id", "zzz"),
    stop("poll_interval", -2),
    # The resume operator.
    resume("session_id", "g" * 24),
    resume("instance_type", "m5.gigantic"),
    resume("storage_size", 99999),
    resume("cost_limit", "cheap"),
    resume("shutdown_in", "whenever"),
    resume("wait_for_running", "later"),
    resume("stop_on_kill", "perhaps"),
    resume("links", "bucket:only", shows="bucket:only"),
    # The sensor.
    sensor("session_id", "123"),
    sensor("session_id", None),
    sensor("target_status", "sleeping"),
    sensor("failure_status", "exploded"),
    # The hook: a connection with one bad field, and calls with a bad argument.
    connection("password", "cloudos_bad", host="http://127.0.0.1:9", password=None),
    connection("schema", "ftp", host="127.0.0.1", schema="ftp"),
    connection("verify_ssl", "maybe", extra={"verify_ssl": "maybe"}),
    connection("ssl_cert", "5", extra={"ssl_cert": 5}),
    hook_call("get_session", "session_id", "not-an-id", "not-an-id"),
    hook_call("pause_session", "session_id", "xyz", "xyz"),
    hook_call("resume_session", "session_id", "short", "short", {}),
    hook_call("wait_for_status", "target", "sleeping", SESSION_ID, "sleeping"),
    hook_call("locate_mounts", "mounts", "s3://", ["s3://"]),
]


def _build(case: Case, sim: CloudOSSimulator, overrides: dict[str, Any]) -> Any:
    defaults: dict[str, Any]
    if case.target == "create":
        defaults = {"task_id": "create", "name": "bad-input", "project_id": sim.project_id}
        return CloudOSCreateSessionOperator(**{**defaults, **overrides})
    if case.target == "stop":
        return CloudOSStopSessionOperator(**{"task_id": "stop", "session_id": SESSION_ID, **overrides})
    if case.target == "resume":
        return CloudOSResumeSessionOperator(**{"task_id": "resume", "session_id": SESSION_ID, **overrides})
    return CloudOSSessionSensor(**{"task_id": "sensor", "session_id": SESSION_ID, "timeout": 5, **overrides})


def _operator(case: Case, sim: CloudOSSimulator) -> Any:
    """The task as it runs when the bad values came from templates: built, then rendered."""
    task = _build(case, sim, {parameter: "{{ params.value }}" for parameter in case.overrides})
    for parameter, value in case.overrides.items():
        setattr(task, parameter, value)
    return task


def _attempt(
    case: Case, sim: CloudOSSimulator, monkeypatch: pytest.MonkeyPatch, artefacts: Artefacts
) -> Callable[[], Any]:
    if case.target == "connection":
        fields = {"conn_type": "cloudos", "host": sim.url, "password": sim.api_key, **case.overrides}
        fields["extra"] = {"workspace_id": sim.workspace_id, **fields.get("extra", {})}
        if fields["password"] is None:
            del fields["password"]
        monkeypatch.setenv("AIRFLOW_CONN_CLOUDOS_BAD", json.dumps(fields))
        return lambda: CloudOSHook(cloudos_conn_id="cloudos_bad").get_session(SESSION_ID)
    if case.target == "hook":
        method = case.overrides["method"]
        return lambda: getattr(CloudOSHook(), method)(*case.overrides["args"], **case.overrides["kwargs"])
    return lambda: _operator(case, sim).execute({"ti": FakeTI("bad", 1, artefacts)})


PARAMS = [pytest.param(case, id=case.id) for case in CASES]
OPERATOR_TARGETS = ("create", "stop", "resume", "sensor")


@pytest.mark.parametrize("case", PARAMS)
def test_bad_input_is_refused_by_name_before_any_request(
    cloudos_conn: CloudOSSimulator, monkeypatch: pytest.MonkeyPatch, artefacts: Artefacts, case: Case
) -> None:
    sim = cloudos_conn
    # Operators raise AirflowFailException, the hook CloudOSValidationError (a ValueError); which
    # one for which target is checked just below. Any other exception (a crash) fails here.
    with pytest.raises((AirflowFailException, ValueError)) as caught:
        _attempt(case, sim, monkeypatch, artefacts)()
    error = caught.value
    artefacts.add("exception", error)
    record("bad_inputs", cases=1, http_requests=sim.counters.total_requests, **{f"cases_{case.target}": 1})
    assert sim.counters.total_requests == 0
    assert sim.counters.connections_accepted == 0
    message = str(error)
    if case.target in OPERATOR_TARGETS:
        assert isinstance(error, AirflowFailException), f"{type(error).__name__}: {message}"
    else:
        assert isinstance(error, ValueError), f"{type(error).__name__}: {message}"
    assert f"{case.parameter}=" in message, message
    assert case.value_text() in message, message
    record("bad_inputs", clear_errors=1)


@pytest.mark.parametrize("case", [param for param in PARAMS if param.values[0].target in OPERATOR_TARGETS])
def test_a_bad_literal_is_refused_by_name_when_the_task_is_built(
    cloudos_conn: CloudOSSimulator, case: Case
) -> None:
    with pytest.raises(InvalidLiteralParameter) as caught:
        _build(case, cloudos_conn, case.overrides)
    assert f"{case.parameter}=" in str(caught.value)
    assert case.value_text() in str(caught.value)
    assert cloudos_conn.counters.total_requests == 0


def test_the_table_is_large_and_distinct() -> None:
    assert len(CASES) >= 40
    assert len({case.id for case in CASES}) == len(CASES)
