"""Each difference between Airflow 2.11 and 3.x that ``compat`` hides, on the installed Airflow.

Every test runs on both lines: it exercises the branch of the Airflow it runs on for real (the
metadata database on 2.11, the task SDK's supervisor channel on 3.x, faked where a real one needs
a running Airflow) and picks that branch with ``compat``'s own flags, so no test is skipped on
either line. CI runs this file on both.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import DAG, TaskDeferred, redact

from airflow_provider_cloudos import compat
from airflow_provider_cloudos.hooks.cloudos import CloudOSHook
from airflow_provider_cloudos.links import XCOM_SESSION_URL, CloudOSSessionLink
from airflow_provider_cloudos.operators.sessions import (
    CloudOSCreateSessionOperator,
    CloudOSResumeSessionOperator,
    CloudOSStopSessionOperator,
)
from airflow_provider_cloudos.provider_info import CONN_FIELDS, UI_FIELD_BEHAVIOUR, get_provider_info
from airflow_provider_cloudos.sensors.sessions import CloudOSSessionSensor
from airflow_provider_cloudos.testing import StateTimings, airflow_helpers
from airflow_provider_cloudos.triggers.sessions import CloudOSSessionTrigger

URL = "https://cloudos.example/app/interactive-sessions/0123456789abcdef01234567"


# -- fakes of what a running Airflow provides -------------------------------------------------


class FakeSupervisor:
    """Airflow 3's channel from task or trigger code to the supervisor, answering like it does."""

    def __init__(self, xcoms: dict[str, Any] | None = None, states: dict[str, Any] | None = None) -> None:
        self.xcoms = xcoms or {}
        self.states = states or {}
        self.sent: list[Any] = []

    def send(self, msg: Any) -> Any:
        from airflow.sdk.execution_time.comms import TaskStatesResult, XComResult

        self.sent.append(msg)
        if msg.type == "GetXCom":
            return XComResult(key=msg.key, value=self.xcoms.get(msg.key))
        if msg.type == "GetTaskStates":
            return TaskStatesResult(task_states=self.states)
        return None


@pytest.fixture
def supervisor(monkeypatch: pytest.MonkeyPatch) -> FakeSupervisor:
    """Install a fake supervisor channel (Airflow 3 only: 2.11 has none)."""
    from airflow.sdk.execution_time import task_runner

    fake = FakeSupervisor()
    monkeypatch.setattr(task_runner, "SUPERVISOR_COMMS", fake, raising=False)
    return fake


def _ti_key(dag_id: str, task_id: str, run_id: str, map_index: int = -1) -> Any:
    from airflow.providers.common.compat.sdk import TaskInstanceKey

    return TaskInstanceKey(dag_id=dag_id, task_id=task_id, run_id=run_id, try_number=1, map_index=map_index)


def _airflow2_task_instance(task: Any, state: str) -> Any:
    """A DAG run and a task instance in 2.11's metadata database, as its triggerer would load them."""
    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from airflow.utils.types import DagRunType

    run_id = f"manual__{uuid.uuid4().hex}"
    with create_session() as session:
        session.add(
            DagRun(
                dag_id=task.dag_id,
                run_id=run_id,
                run_type=DagRunType.MANUAL,
                execution_date=datetime.now(UTC),
                state="running",
            )
        )
        session.flush()
        ti = TaskInstance(task=task, run_id=run_id, state=state)
        session.add(ti)
        session.flush()
        session.expunge(ti)
    return ti


def _set_airflow2_state(ti: Any, state: str) -> None:
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        session.query(TaskInstance).filter_by(
            dag_id=ti.dag_id, task_id=ti.task_id, run_id=ti.run_id, map_index=ti.map_index
        ).update({"state": state})


def _dag(dag_id: str) -> Any:
    return DAG(dag_id=dag_id, schedule=None, start_date=datetime(2025, 1, 1, tzinfo=UTC))


# -- secrets masking --------------------------------------------------------------------------


def test_mask_api_key_hides_the_key_in_this_process():
    key = f"cloudos-key-{uuid.uuid4().hex}"
    compat.mask_api_key(key)
    assert key not in str(redact(f"calling with {key} now"))


def test_mask_api_key_reaches_the_process_that_writes_the_task_log(monkeypatch):
    key = f"cloudos-key-{uuid.uuid4().hex}"
    if compat.AIRFLOW_V_3_0_PLUS:
        # 3.x: the supervisor writes the task's log, so the task must tell it.
        from airflow.sdk.execution_time import task_runner

        fake = FakeSupervisor()
        monkeypatch.setattr(task_runner, "SUPERVISOR_COMMS", fake, raising=False)
        compat.mask_api_key(key)
        assert [(m.type, m.value) for m in fake.sent] == [("MaskSecret", key)]
    else:
        # 2.11: the task process writes its own log through the process-wide masker.
        from airflow.utils.log.secrets_masker import _secrets_masker

        compat.mask_api_key(key)
        assert key not in str(_secrets_masker().redact(f"header apikey={key}"))


# -- extra links ------------------------------------------------------------------------------


def test_link_reads_the_url_the_operator_pushed(request):
    link = CloudOSSessionLink()
    key = _ti_key("links_dag", "create", "manual__1")
    if compat.AIRFLOW_V_3_0_PLUS:
        # 3.x: the worker computes the link at the end of its run, reading through the supervisor.
        supervisor = request.getfixturevalue("supervisor")
        supervisor.xcoms[XCOM_SESSION_URL] = URL
        assert link.get_link(None, ti_key=key) == URL
        (asked,) = supervisor.sent
        assert (asked.type, asked.key, asked.task_id, asked.run_id) == (
            "GetXCom",
            XCOM_SESSION_URL,
            "create",
            "manual__1",
        )
    else:
        # 2.11: the webserver computes it on request, reading the metadata database.
        request.getfixturevalue("airflow_db")
        from airflow.models.xcom import XCom

        with _dag("links_dag"):
            task = CloudOSCreateSessionOperator(task_id="create", name="n", project_name="p")
        ti = _airflow2_task_instance(task, "running")
        XCom.set(key=XCOM_SESSION_URL, value=URL, dag_id=ti.dag_id, task_id=ti.task_id, run_id=ti.run_id)
        assert link.get_link(task, ti_key=ti.key) == URL


def test_link_is_empty_before_the_session_exists(request):
    link = CloudOSSessionLink()
    if compat.AIRFLOW_V_3_0_PLUS:
        request.getfixturevalue("supervisor")
        assert link.get_link(None, ti_key=_ti_key("links_dag", "create", "manual__2")) == ""
    else:
        request.getfixturevalue("airflow_db")
        with _dag("links_dag_empty"):
            task = CloudOSCreateSessionOperator(task_id="create", name="n", project_name="p")
        ti = _airflow2_task_instance(task, "running")
        assert link.get_link(task, ti_key=ti.key) == ""


# -- kills of a deferred task -----------------------------------------------------------------


def test_the_way_a_kill_reaches_a_deferred_task():
    from airflow.triggers.base import BaseTrigger

    if compat.AIRFLOW_V_3_3_PLUS:
        assert compat.trigger_has_on_kill()
        assert "on_kill" in vars(BaseTrigger)
    else:
        # 2.11 (and 3.0-3.2): a kill is only a cancellation of ``run()``.
        assert not compat.trigger_has_on_kill()


def _trigger_for(ti: Any) -> CloudOSSessionTrigger:
    trigger = CloudOSSessionTrigger(session_id="a" * 24, end_time=time.time() + 60, stop_on_kill=True)
    trigger.task_instance = ti
    return trigger


def test_task_state_check_tells_a_moved_trigger_from_a_killed_task(request):
    if compat.AIRFLOW_V_3_0_PLUS:
        # 3.x: the triggerer answers through the supervisor channel.
        supervisor = request.getfixturevalue("supervisor")
        ti = SimpleNamespace(dag_id="kill_dag", task_id="create", run_id="manual__1", map_index=-1)
        trigger = _trigger_for(ti)
        supervisor.states = {"manual__1": {"create": "deferred"}}
        assert asyncio.run(compat.task_still_deferred(trigger))
        supervisor.states = {"manual__1": {"create": "failed"}}
        assert not asyncio.run(compat.task_still_deferred(trigger))
        asked = supervisor.sent[-1]
        assert (asked.type, asked.dag_id, asked.task_ids, asked.run_ids, asked.map_index) == (
            "GetTaskStates",
            "kill_dag",
            ["create"],
            ["manual__1"],
            -1,
        )
    else:
        # 2.11: the triggerer attaches an ORM task instance and reads the metadata database.
        request.getfixturevalue("airflow_db")
        with _dag("kill_dag"):
            task = CloudOSCreateSessionOperator(task_id="create", name="n", project_name="p")
        ti = _airflow2_task_instance(task, "deferred")
        trigger = _trigger_for(ti)
        assert asyncio.run(compat.task_still_deferred(trigger))
        assert not asyncio.run(compat.safe_to_pause_after_cancel(trigger)), "moved: must not pause"
        _set_airflow2_state(ti, "failed")
        assert not asyncio.run(compat.task_still_deferred(trigger))
        assert asyncio.run(compat.safe_to_pause_after_cancel(trigger)), "killed: must pause"


def test_task_state_check_of_a_mapped_task(request):
    if compat.AIRFLOW_V_3_0_PLUS:
        supervisor = request.getfixturevalue("supervisor")
        supervisor.states = {"manual__1": {"create_3": "deferred", "create": "failed"}}
        ti = SimpleNamespace(dag_id="kill_dag", task_id="create", run_id="manual__1", map_index=3)
        assert asyncio.run(compat.task_still_deferred(_trigger_for(ti)))
        assert supervisor.sent[-1].map_index == 3
    else:
        request.getfixturevalue("airflow_db")
        with _dag("kill_dag_mapped"):
            task = CloudOSCreateSessionOperator(task_id="create", name="n", project_name="p")
        ti = _airflow2_task_instance(task, "deferred")
        _set_airflow2_state(ti, "up_for_retry")
        assert not asyncio.run(compat.task_still_deferred(_trigger_for(ti)))


def test_unfinished_tasks_of_a_session_block_body(request):
    """The block's guard asks which of the body's tasks are still to finish."""
    if compat.AIRFLOW_V_3_0_PLUS:
        supervisor = request.getfixturevalue("supervisor")
        supervisor.states = {
            "manual__1": {"g.a": "success", "g.b_0": "failed", "g.b_1": "running", "g.c": None}
        }
        assert compat.unfinished_tasks("block_dag", "manual__1", ["g.a", "g.b", "g.c", "g.d"]) == [
            "g.b",  # one mapped instance still runs
            "g.c",  # not started yet
            "g.d",  # no instance at all
        ]
        asked = supervisor.sent[-1]
        assert (asked.type, asked.dag_id, asked.task_ids, asked.run_ids) == (
            "GetTaskStates",
            "block_dag",
            ["g.a", "g.b", "g.c", "g.d"],
            ["manual__1"],
        )
        supervisor.states = {"manual__1": {"g.a": "success", "g.b_0": "upstream_failed", "g.b_1": "skipped"}}
        assert compat.unfinished_tasks("block_dag", "manual__1", ["g.a", "g.b"]) == []
    else:
        request.getfixturevalue("airflow_db")
        with _dag("block_dag"):
            task = CloudOSCreateSessionOperator(task_id="work", name="n", project_name="p")
        ti = _airflow2_task_instance(task, "running")
        assert compat.unfinished_tasks("block_dag", ti.run_id, ["work", "missing"]) == ["missing", "work"]
        _set_airflow2_state(ti, "failed")
        assert compat.unfinished_tasks("block_dag", ti.run_id, ["work"]) == []
    assert compat.unfinished_tasks("block_dag", "manual__1", []) == []


def test_a_cancellation_alone_never_pauses_where_on_kill_exists(monkeypatch):
    async def failed(trigger: Any) -> str:
        return "failed"

    monkeypatch.setattr(compat, "_task_state", failed)
    trigger = _trigger_for(SimpleNamespace(dag_id="d", task_id="t", run_id="r", map_index=-1))
    expected = not compat.AIRFLOW_V_3_3_PLUS
    assert asyncio.run(compat.safe_to_pause_after_cancel(trigger)) is expected


def test_without_a_task_instance_there_is_nothing_to_decide_on():
    trigger = CloudOSSessionTrigger(session_id="a" * 24, end_time=time.time() + 60)
    assert not asyncio.run(compat.task_still_deferred(trigger))
    assert not asyncio.run(compat.safe_to_pause_after_cancel(trigger))


def test_an_unanswered_state_query_counts_as_gone_for_a_kill_and_as_unknown_for_a_cancel(monkeypatch):
    async def unreachable(trigger: Any) -> str:
        raise ConnectionError("no answer")

    monkeypatch.setattr(compat, "_task_state", unreachable)
    monkeypatch.setattr(compat, "trigger_has_on_kill", lambda: False)
    trigger = _trigger_for(SimpleNamespace(dag_id="d", task_id="t", run_id="r", map_index=-1))
    assert not asyncio.run(compat.task_still_deferred(trigger))
    assert not asyncio.run(compat.safe_to_pause_after_cancel(trigger))


# -- deferral deadlines -----------------------------------------------------------------------


def test_execution_timeout_and_a_deferred_task():
    task = SimpleNamespace(execution_timeout=timedelta(minutes=10))
    wanted = time.time() + 3600
    if compat.EXECUTION_TIMEOUT_ENDS_DEFERRAL:
        # 2.11: Airflow ends the deferral at start + execution_timeout; the trigger must end first.
        deadline = compat.framework_deferral_deadline(task)
        assert deadline is not None
        assert abs(deadline - (time.time() + 600)) < 60
        capped = compat.trigger_deadline(task, wanted)
        assert abs(capped - (deadline - compat.FRAMEWORK_DEADLINE_MARGIN_SECONDS)) < 1
    else:
        # 3.x: execution_timeout does not apply while deferred; the trigger keeps its deadline.
        assert compat.AIRFLOW_V_3_0_PLUS
        assert compat.framework_deferral_deadline(task) is None
        assert compat.trigger_deadline(task, wanted) == wanted


def test_no_execution_timeout_leaves_the_trigger_deadline_alone():
    wanted = time.time() + 3600
    assert compat.framework_deferral_deadline(SimpleNamespace(execution_timeout=None)) is None
    assert compat.trigger_deadline(SimpleNamespace(execution_timeout=None), wanted) == wanted


def test_a_far_framework_deadline_does_not_move_the_trigger(monkeypatch):
    monkeypatch.setattr(compat, "framework_deferral_deadline", lambda task: time.time() + 7200)
    wanted = time.time() + 3600
    assert compat.trigger_deadline(SimpleNamespace(), wanted) == wanted


def test_a_spent_execution_timeout_gives_the_trigger_one_poll(monkeypatch):
    monkeypatch.setattr(compat, "framework_deferral_deadline", lambda task: time.time() - 100)
    before = time.time()
    assert before <= compat.trigger_deadline(SimpleNamespace(), before + 3600) <= time.time()


def test_the_deferral_deadline_counts_from_the_start_of_the_try():
    started = datetime.now(UTC) - timedelta(minutes=8)
    context = {"ti": SimpleNamespace(start_date=started)}
    task = SimpleNamespace(execution_timeout=timedelta(minutes=10))
    if compat.EXECUTION_TIMEOUT_ENDS_DEFERRAL:
        from airflow.models.taskinstance import set_current_context

        with set_current_context(context):  # type: ignore[arg-type]
            deadline = compat.framework_deferral_deadline(task)
        assert deadline == pytest.approx(started.timestamp() + 600)
    else:
        from airflow.sdk.execution_time.context import set_current_context

        with set_current_context(context):  # type: ignore[arg-type]
            assert compat.framework_deferral_deadline(task) is None


def test_a_deferring_sensor_gets_a_trigger_that_ends_before_airflow_would(cloudos_conn):
    cloudos_conn.set_timings(StateTimings(scheduled=0.0, setup=600.0))
    session = cloudos_conn.add_session(name="slow", status="setup")
    sensor = CloudOSSessionSensor(
        task_id="wait",
        session_id=session["_id"],
        deferrable=True,
        timeout=3600,
        poke_interval=5,
        execution_timeout=timedelta(minutes=10),
    )
    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute({})
    end_time = deferred.value.trigger.end_time
    if compat.EXECUTION_TIMEOUT_ENDS_DEFERRAL:
        assert end_time <= time.time() + 600 - compat.FRAMEWORK_DEADLINE_MARGIN_SECONDS
    else:
        assert end_time > time.time() + 3500
    # Airflow's own deferral timeout stays beyond the trigger's deadline on both lines.
    assert time.time() + deferred.value.timeout.total_seconds() > end_time


# -- the task context -------------------------------------------------------------------------


def test_the_task_instance_is_found_in_this_airflows_context():
    ti = object()
    if compat.AIRFLOW_V_3_0_PLUS:
        context: Any = {"ti": ti}  # 3.x: a TypedDict, so a plain dict
    else:
        from airflow.utils.context import Context

        context = Context({"ti": ti})  # 2.11: a mapping that is not a dict
        assert not isinstance(context, dict)
    assert compat.context_task_instance(context) is ti


def test_no_context_no_task_instance():
    assert compat.context_task_instance(None) is None
    assert compat.context_task_instance({}) is None


# -- per-task state across retries -----------------------------------------------------------


def test_task_state_store_is_what_the_context_offers():
    store = object()
    assert compat.task_state_store({"task_state_store": store}) is store
    assert compat.task_state_store({"ti": object()}) is None  # 2.11 and 3.0-3.2 contexts
    assert compat.task_state_store(None) is None


# -- connection forms -------------------------------------------------------------------------


def test_the_connection_form_comes_from_one_definition():
    (conn_type,) = get_provider_info()["connection-types"]
    assert conn_type["conn-fields"] == CONN_FIELDS
    if compat.DECLARATIVE_CONNECTION_FORM:
        # 3.2+: the form is the provider info's conn-fields; the hook's form methods are skipped.
        from airflow.providers_manager import ProvidersManager

        widgets = ProvidersManager().connection_form_widgets
        for name, spec in CONN_FIELDS.items():
            field = widgets[f"extra__cloudos__{name}"]
            assert field.field_name == name
            assert field.field["schema"]["title"] == spec["label"]
            assert field.field["description"] == spec["description"]
    elif compat.AIRFLOW_V_3_0_PLUS:
        # 3.0-3.1: the API server calls the hook with WTForms' fields patched to its own
        # JSON-schema builders. 3.0 needs WTForms installed for that (without it every provider's
        # extra fields are dropped; scripts/test-airflow-minors.sh installs it there); 3.1 stands
        # in mocks for WTForms, Flask-Babel and Flask-AppBuilder when they are missing.
        from airflow.api_fastapi.core_api.services.ui.connections import HookMetaService

        (cloudos,) = [hook for hook in HookMetaService.hook_meta_data() if hook.connection_type == "cloudos"]
        assert cloudos.extra_fields is not None, "Airflow could not build the CloudOS form"
        assert list(cloudos.extra_fields) == list(CONN_FIELDS)
        for name, spec in CONN_FIELDS.items():
            field = cloudos.extra_fields[name]
            assert field["schema"]["title"] == spec["label"]
            assert field["description"] == spec["description"]
        assert cloudos.extra_fields["verify_ssl"]["schema"]["type"][0] == "boolean"
        assert cloudos.extra_fields["verify_ssl"]["value"] is True
        assert cloudos.standard_fields is not None
        assert cloudos.standard_fields.password.title == UI_FIELD_BEHAVIOUR["relabeling"]["password"]
    else:
        # 2.11: the webserver asks the hook for WTForms fields, built from the same definition.
        from wtforms import BooleanField, StringField

        widgets = compat.connection_form_widgets(CONN_FIELDS)
        assert list(widgets) == list(CONN_FIELDS)
        assert widgets["verify_ssl"].field_class is BooleanField
        assert widgets["verify_ssl"].kwargs["default"] is True
        for name in ("workspace_id", "ssl_cert", "proxy", "no_proxy"):
            assert widgets[name].field_class is StringField
            assert str(widgets[name].args[0]) == CONN_FIELDS[name]["label"]
        assert list(CloudOSHook.get_connection_form_widgets()) == list(CONN_FIELDS)


# -- helpers for tests: DAG serialization and connection URIs ---------------------------------


@pytest.fixture
def session_dag() -> Any:
    with _dag("compat_serialization") as dag:
        create = CloudOSCreateSessionOperator(
            task_id="create", name="{{ run_id }}", project_name="genomics", deferrable=True
        )
        wait = CloudOSSessionSensor(task_id="wait", session_id=create.output, deferrable=True)
        resume = CloudOSResumeSessionOperator(task_id="resume", session_id=create.output)
        stop = CloudOSStopSessionOperator(task_id="stop", session_id=create.output)
        create >> wait >> resume >> stop
    return dag


def test_a_dag_of_every_operator_survives_serialization(session_dag):
    data = airflow_helpers.serialize_dag(session_dag)
    json.dumps(data)  # what the scheduler stores must be JSON
    restored = airflow_helpers.deserialize_dag(data)
    assert sorted(restored.task_ids) == ["create", "resume", "stop", "wait"]
    create = restored.get_task("create")
    assert "name" in create.template_fields
    assert create.downstream_task_ids == {"wait", "resume", "stop"}
    assert "CloudOS Session" in create.extra_links
    # 3.2 renamed the serializer; 3.0-3.1 and 2.11 call it SerializedDAG.
    expected = "DagSerialization" if compat.AIRFLOW_V_3_2_PLUS else "SerializedDAG"
    assert airflow_helpers._dag_serializer().__name__ == expected


def test_a_serialized_operators_link_is_the_one_the_ui_shows(session_dag, request):
    restored = airflow_helpers.deserialize_dag(airflow_helpers.serialize_dag(session_dag)).get_task("create")
    if compat.AIRFLOW_V_3_0_PLUS:
        # 3.x: the UI reads the link the worker stored under the link's own XCom key.
        (link,) = [link for link in restored.operator_extra_links if link.name == "CloudOS Session"]
        assert link.xcom_key == CloudOSSessionLink().xcom_key
    else:
        # 2.11: the webserver rebuilds the provider's link class (registered in the provider
        # info) and calls it, which reads the session URL from the metadata database.
        request.getfixturevalue("airflow_db")
        from airflow.models.xcom import XCom

        ti = _airflow2_task_instance(session_dag.get_task("create"), "running")
        XCom.set(key=XCOM_SESSION_URL, value=URL, dag_id=ti.dag_id, task_id=ti.task_id, run_id=ti.run_id)
        assert restored.get_extra_links(ti, "CloudOS Session") == URL


def test_connection_from_uri_parses_like_airflow():
    uri = "cloudos://https://:k%2Fey@cloudos.example:8443?workspace_id=abc&verify_ssl=false"
    connection = airflow_helpers.connection_from_uri(uri, conn_id="cloudos_default")
    assert connection.conn_id == "cloudos_default"
    assert connection.conn_type == "cloudos"
    assert connection.host == "https://cloudos.example"
    assert connection.port == 8443
    assert connection.password == "k/ey"
    assert json.loads(connection.extra) == {"workspace_id": "abc", "verify_ssl": "false"}


def test_object_storage_path_is_airflows_own_on_each_line(tmp_path):
    """3.x: ``airflow.sdk.ObjectStoragePath``; 2.11: ``airflow.io.path.ObjectStoragePath``."""
    if compat.AIRFLOW_V_3_0_PLUS:
        from airflow.sdk import ObjectStoragePath
    else:
        from airflow.io.path import ObjectStoragePath  # type: ignore[no-redef]
    path = compat.object_storage_path(f"file://{tmp_path}/report.csv")
    assert isinstance(path, ObjectStoragePath)
    path.write_text("ID\n")
    assert (tmp_path / "report.csv").read_text() == "ID\n"


# -- asset events -------------------------------------------------------------------------------


class AssetLookups(FakeSupervisor):
    """The supervisor channel answering the task SDK's asset lookups by URI (3.x)."""

    def __init__(self, declared: dict[str, str]) -> None:
        super().__init__()
        self.declared = declared

    def send(self, msg: Any) -> Any:
        from airflow.sdk.exceptions import ErrorType
        from airflow.sdk.execution_time.comms import AssetResult, ErrorResponse

        self.sent.append(msg)
        if msg.type != "GetAssetByUri":
            return None
        if msg.uri not in self.declared:
            return ErrorResponse(error=ErrorType.ASSET_NOT_FOUND, detail={"uri": msg.uri})
        return AssetResult(name=self.declared[msg.uri], uri=msg.uri, group="asset", extra={})


def test_an_asset_event_through_an_alias_on_this_airflow(monkeypatch, airflow_db):
    """3.x: the asset a DAG declared with the URI gets the event (another gets one named by its URI);
    2.11: a dataset is its URI, and the alias is registered for the event to be accepted."""
    alias = compat.asset_alias("results")
    events = airflow_helpers.outlet_event_accessors()
    if compat.AIRFLOW_V_3_0_PLUS:
        from airflow.sdk.definitions.asset import AssetAlias
        from airflow.sdk.execution_time import context, task_runner

        assert isinstance(alias, AssetAlias)
        monkeypatch.setattr(context._AssetRefResolutionMixin, "_asset_ref_cache", {})
        lookups = AssetLookups({"s3://bucket/results": "s3://bucket/results/"})
        monkeypatch.setattr(task_runner, "SUPERVISOR_COMMS", lookups, raising=False)
    else:
        from airflow.datasets import DatasetAlias

        assert isinstance(alias, DatasetAlias)

    first = compat.add_asset_event({"outlet_events": events}, "results", "s3://bucket/results/", {"n": 1})
    second = compat.add_asset_event({"outlet_events": events}, "results", "s3://other/out/", {"n": 2})

    assert (first, second) == ("s3://bucket/results", "s3://other/out")
    recorded = airflow_helpers.alias_events(events, "results")
    assert [(event["uri"], event["extra"]) for event in recorded] == [(first, {"n": 1}), (second, {"n": 2})]
    if compat.AIRFLOW_V_3_0_PLUS:
        assert [event["name"] for event in recorded] == ["s3://bucket/results/", "s3://other/out"]
    else:  # without it, 2.11 fails the task when it registers the events
        from airflow.models.dataset import DatasetAliasModel
        from airflow.utils.session import create_session

        with create_session() as session:
            assert session.query(DatasetAliasModel).filter_by(name="results").count() == 1
