"""A pause that saved a session's data records an asset event per linked folder; any other pause none.

The tasks run as Airflow runs them, minus the scheduler: ``execute`` with a context holding the
outlet-event accessors of the installed Airflow (the task SDK's on 3.x, ``utils.context``'s on
2.11), whose alias events are what Airflow registers when the task succeeds. The XComs of one DAG
run are shared by its tasks, so the stop task reads what the create task recorded. On 3.x the task
SDK looks assets up by URI through its supervisor channel: a fake channel answers from the assets
a test declares (as DAGs scheduled on them would).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import (
    DAG,
    AirflowException,
    AirflowFailException,
    Asset,
    AssetAlias,
    TaskDeferred,
)
from operator_helpers import FAST, FakeTI, pause_task, run_trigger

from airflow_provider_cloudos import cloudos_session, compat
from airflow_provider_cloudos.core.lineage import cloudos_namespace
from airflow_provider_cloudos.core.spec import build_project_folder_item, build_s3_link_item, parse_link_path
from airflow_provider_cloudos.hooks.cloudos import CloudOSHook
from airflow_provider_cloudos.operators.block import XCOM_STARTED_SESSION
from airflow_provider_cloudos.operators.cloudos_task import RESULTS_ALIAS, XCOM_LINKED_FOLDERS
from airflow_provider_cloudos.operators.sessions import (
    CloudOSCreateSessionOperator,
    CloudOSResumeSessionOperator,
    CloudOSStopSessionOperator,
)
from airflow_provider_cloudos.testing import CloudOSSimulator, ManualClock, StateTimings
from airflow_provider_cloudos.testing.airflow_helpers import alias_events, outlet_event_accessors

S3_FOLDER = "s3://team-results/rnaseq/"
S3_URI = "s3://team-results/rnaseq"
PROJECT_FOLDER = "genomics/Data/results"
EXTRA_FOLDER = "s3://team-scratch/qc/"
#: A pause that takes ten minutes of the simulator's time: the session stays "stopping".
SLOW_PAUSE = StateTimings(aborting=600.0)


def project_uri(sim: CloudOSSimulator) -> str:
    """The project folder's URI: the create task's lineage namespace and name of the folder, joined."""
    return f"{cloudos_namespace(sim.url, sim.workspace_id)}/genomics/Data/results"


class RunTI(FakeTI):
    """A task instance of one DAG run: its XComs are the run's, so a task reads what another pushed."""

    def __init__(self, task_id: str, run_xcoms: dict[tuple[str, str], Any]) -> None:
        super().__init__()
        self.task_id = task_id
        self.run_xcoms = run_xcoms

    def xcom_push(self, key: str, value: Any) -> None:
        super().xcom_push(key, value)
        self.run_xcoms[(self.task_id, key)] = value

    def xcom_pull(self, task_ids: str, key: str, map_indexes: int | None = None) -> Any:
        return self.run_xcoms.get((task_ids, key))


class Run:
    """One DAG run: the XComs its tasks share, and the context of each task's latest execution."""

    def __init__(self) -> None:
        self.xcoms: dict[tuple[str, str], Any] = {}
        self.contexts: dict[str, dict[str, Any]] = {}

    def context(self, task: Any) -> dict[str, Any]:
        """A fresh context, as each execution (a resumed deferral too) gets one."""
        context = {"ti": RunTI(task.task_id, self.xcoms), "outlet_events": outlet_event_accessors()}
        self.contexts[task.task_id] = context
        return context

    def execute(self, task: Any) -> Any:
        return task.execute(self.context(task))

    def resume(self, task: Any, deferred: TaskDeferred) -> Any:
        """The triggerer's event handed to the method the task named, in a new execution."""
        event = run_trigger(deferred.trigger)
        return getattr(task, deferred.method_name)(self.context(task), event=event)

    def events(self, task_id: str) -> list[dict[str, Any]]:
        """The asset events Airflow would register for the task's latest execution."""
        return alias_events(self.contexts[task_id]["outlet_events"], RESULTS_ALIAS)


class AssetsSupervisor:
    """Airflow 3's supervisor channel answering the task SDK's asset lookups by URI.

    ``declared`` maps a URI to the name of the asset a DAG declared with it; any other URI is
    unknown, as Airflow answers for an asset no DAG names.
    """

    def __init__(self) -> None:
        self.declared: dict[str, str] = {}
        self.asked: list[str] = []

    def send(self, msg: Any) -> Any:
        from airflow.sdk.exceptions import ErrorType
        from airflow.sdk.execution_time.comms import AssetResult, ErrorResponse

        if msg.type != "GetAssetByUri":
            return None  # 3.0 also tells it of every secret to mask
        self.asked.append(msg.uri)
        if msg.uri not in self.declared:
            return ErrorResponse(error=ErrorType.ASSET_NOT_FOUND, detail={"uri": msg.uri})
        return AssetResult(name=self.declared[msg.uri], uri=msg.uri, group="asset", extra={})


@pytest.fixture(autouse=True)
def assets(monkeypatch: pytest.MonkeyPatch, airflow_db: None) -> AssetsSupervisor:
    """3.x: the asset lookups' channel; 2.11: the metadata database its workers write aliases to."""
    supervisor = AssetsSupervisor()
    if compat.AIRFLOW_V_3_0_PLUS:
        from airflow.sdk.execution_time import context, task_runner

        monkeypatch.setattr(task_runner, "SUPERVISOR_COMMS", supervisor, raising=False)
        monkeypatch.setattr(context._AssetRefResolutionMixin, "_asset_ref_cache", {})
    return supervisor


def _dag(dag_id: str = "results") -> Any:
    return DAG(dag_id=dag_id, schedule=None, start_date=datetime(2025, 1, 1, tzinfo=UTC))


def pipeline(
    links: list[str] | None = None, name: str = "analysis", **stop_kwargs: Any
) -> tuple[CloudOSCreateSessionOperator, CloudOSStopSessionOperator]:
    """create (linking ``links``) >> stop, in one DAG, as the example producer wires them."""
    with _dag():
        create = CloudOSCreateSessionOperator(
            task_id="create",
            name=name,
            project_name="genomics",
            links=[S3_FOLDER, PROJECT_FOLDER] if links is None else links,
            **FAST,
        )
        stop = CloudOSStopSessionOperator(task_id="stop", session_id=create.output, **{**FAST, **stop_kwargs})
    return create, stop


def created(run: Run, create: Any, stop: Any) -> str:
    """Run the create task; give the stop task the id its template would render to."""
    session_id = str(run.execute(create))
    stop.session_id = session_id
    return session_id


def stop_alone(session_id: str, **kwargs: Any) -> CloudOSStopSessionOperator:
    """A stop task with no create task upstream (the session was made elsewhere)."""
    with _dag("stop_alone"):
        return CloudOSStopSessionOperator(task_id="stop", session_id=session_id, **{**FAST, **kwargs})


def linked(*paths: str) -> list[dict[str, Any]]:
    """The ``fuseFileSystems`` items CloudOS keeps for these links (a project folder as an S3
    folder whose bucket is the project)."""
    items = []
    for parsed in map(parse_link_path, paths):
        if parsed["type"] == "s3":
            items.append(build_s3_link_item(parsed))
        else:
            items.append(build_project_folder_item(parsed["project_name"], parsed["folder_path"]))
    return items


def session_made_elsewhere(
    sim: CloudOSSimulator, links: list[str], name: str = "elsewhere", status: str = "ready"
) -> str:
    """A session with these links that no task of the test's run created."""
    return str(sim.add_session(name=name, status=status, fuse_file_systems=linked(*links))["_id"])


# -- a pause that saved data ------------------------------------------------------------------


def test_a_pause_that_saved_data_records_one_event_per_linked_folder(cloudos_conn, sentinel_api_key):
    run = Run()
    create, stop = pipeline()
    session_id = created(run, create, stop)
    lookups = cloudos_conn.counters.requests("projects")

    assert run.execute(stop) == session_id

    session = cloudos_conn.session(session_id)
    assert session["status"] == "aborted"
    events = run.events("stop")
    assert [event["uri"] for event in events] == [S3_URI, project_uri(cloudos_conn)]
    assert session["lastSavedAt"]
    expected_extra = {
        "session_id": session_id,
        "session_name": "analysis",
        "saved_at": session["lastSavedAt"],
        "running_time_seconds": int(session["totalRunningTimeInSeconds"]),
        "cost_usd": session["totalCostInUsd"],
        "session_url": f"{cloudos_conn.url}/app/data-science/interactive-analysis/view/{session_id}",
    }
    assert [event["extra"] for event in events] == [expected_extra, expected_extra]
    assert sentinel_api_key not in json.dumps(events)
    # The create task of the run recorded what each folder is: nothing was looked up to pause.
    assert cloudos_conn.counters.requests("projects") == lookups


def test_a_deferred_pause_records_the_events_when_it_comes_back(cloudos_conn):
    cloudos_conn.set_timings(StateTimings(aborting=0.3))
    run = Run()
    create, stop = pipeline(deferrable=True)
    session_id = created(run, create, stop)

    with pytest.raises(TaskDeferred) as deferred:
        run.execute(stop)
    assert run.events("stop") == []  # nothing is saved before the session is paused
    assert run.resume(stop, deferred.value) == session_id

    assert [event["uri"] for event in run.events("stop")] == [S3_URI, project_uri(cloudos_conn)]
    assert {event["extra"]["session_id"] for event in run.events("stop")} == {session_id}


def test_without_a_create_task_in_the_run_the_session_object_names_the_same_folders(cloudos_conn):
    earlier_run = Run()
    create, _ = pipeline()
    session_id = str(earlier_run.execute(create))  # another DAG run made the session
    run = Run()
    lookups = cloudos_conn.counters.requests("projects")

    run.execute(stop_alone(session_id))

    # CloudOS lists a project folder like an S3 folder named after the project: looked up, it is
    # named as the create task's lineage named it.
    assert [event["uri"] for event in run.events("stop")] == [S3_URI, project_uri(cloudos_conn)]
    assert cloudos_conn.counters.requests("projects") > lookups


def test_a_resume_in_the_run_adds_its_folders_to_those_the_session_had(cloudos_conn):
    session_id = session_made_elsewhere(cloudos_conn, [PROJECT_FOLDER], status="aborted")
    run = Run()
    with _dag():
        resume = CloudOSResumeSessionOperator(
            task_id="resume", session_id=session_id, links=[EXTRA_FOLDER], **FAST
        )
        stop = CloudOSStopSessionOperator(task_id="stop", session_id=resume.output, **FAST)
    run.execute(resume)
    stop.session_id = session_id
    searches = cloudos_conn.counters.requests("projects")

    run.execute(stop)

    uris = [event["uri"] for event in run.events("stop")]
    assert uris == [project_uri(cloudos_conn), "s3://team-scratch/qc"]
    # The folder the resume linked is known from its record; only the older one is looked up.
    assert run.xcoms[("resume", XCOM_LINKED_FOLDERS)] == {
        "session_id": session_id,
        "folders": {EXTRA_FOLDER: "s3://team-scratch/qc"},
    }
    assert cloudos_conn.counters.requests("projects") == searches + 1


def test_on_airflow_3_the_event_goes_to_the_asset_a_dag_declared_with_that_uri(cloudos_conn, assets):
    # A DAG scheduled on Asset("s3://team-results/rnaseq/") has it named as written, its URI normalised.
    assets.declared[S3_URI] = S3_FOLDER
    run = Run()
    create, stop = pipeline()
    created(run, create, stop)

    run.execute(stop)

    names = {event["uri"]: event["name"] for event in run.events("stop")}
    if compat.AIRFLOW_V_3_0_PLUS:
        assert assets.asked == [S3_URI, project_uri(cloudos_conn)]
        assert names == {S3_URI: S3_FOLDER, project_uri(cloudos_conn): project_uri(cloudos_conn)}
    else:  # a dataset is its URI alone
        assert names == {S3_URI: S3_URI, project_uri(cloudos_conn): project_uri(cloudos_conn)}


def test_the_block_teardown_records_the_saved_folders(cloudos_conn):
    with (
        _dag("block"),
        cloudos_session("analysis", project_name="genomics", links=[S3_FOLDER], **FAST) as block,
    ):
        pass
    assert block.teardown is not None
    run = Run()
    session_id = str(run.execute(block.setup))
    block.teardown.session_id = session_id

    run.execute(block.teardown)

    events = run.events("analysis.pause")
    assert [(event["uri"], event["extra"]["session_id"]) for event in events] == [(S3_URI, session_id)]


def test_the_pausing_tasks_declare_the_results_alias_and_keep_the_users_outlets():
    _, stop = pipeline(outlets=[Asset("s3://reports/daily/")])
    assert stop.outlets == [Asset("s3://reports/daily/"), AssetAlias(name=RESULTS_ALIAS)]
    assert pause_task().outlets == [AssetAlias(name=RESULTS_ALIAS)]
    with _dag("block"), cloudos_session("analysis", project_name="genomics") as block:
        pass
    assert block.teardown is not None
    assert block.teardown.outlets == [AssetAlias(name=RESULTS_ALIAS)]


# -- pauses that saved nothing ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stop_kwargs", "request_sent"),
    [
        ({"upload_on_close": False}, (False, False)),
        ({"upload_on_close": "false"}, (False, False)),
        ({"force": True}, (True, True)),
    ],
    ids=["without-upload", "without-upload-rendered", "forced"],
)
def test_a_pause_without_upload_or_forced_records_no_event(cloudos_conn, stop_kwargs, request_sent):
    run = Run()
    create, stop = pipeline(**stop_kwargs)
    session_id = created(run, create, stop)

    run.execute(stop)

    assert cloudos_conn.session(session_id)["status"] == "aborted"
    assert cloudos_conn.abort_requests == [(session_id, *request_sent)]
    assert run.events("stop") == []


@pytest.fixture
def clocked(monkeypatch: pytest.MonkeyPatch, sentinel_api_key: str) -> Any:
    """A simulator whose time moves only when the test says (pauses take a minute of it)."""
    clock = ManualClock()
    timings = StateTimings(aborting=60.0)
    with CloudOSSimulator(timings=timings, clock=clock, api_key=sentinel_api_key) as sim:
        monkeypatch.setenv("AIRFLOW_CONN_CLOUDOS_DEFAULT", sim.connection_json())
        yield sim, clock


def test_a_session_already_paused_records_no_event(cloudos_conn):
    session_id = session_made_elsewhere(cloudos_conn, [S3_FOLDER], status="aborted")
    run = Run()

    run.execute(stop_alone(session_id))

    assert cloudos_conn.abort_requests == []
    assert run.events("stop") == []


def test_a_session_already_stopping_is_waited_for_and_records_no_event(clocked):
    sim, clock = clocked
    session_id = session_made_elsewhere(sim, [S3_FOLDER], status="aborting")
    run = Run()
    stop = stop_alone(session_id, deferrable=True)

    with pytest.raises(TaskDeferred) as deferred:
        run.execute(stop)
    clock.advance(120)  # somebody else's pause ends
    run.resume(stop, deferred.value)

    assert sim.session(session_id)["status"] == "aborted"
    assert sim.abort_requests == []
    assert run.events("stop") == []


def test_a_pause_someone_else_requested_first_records_no_event(cloudos_conn, monkeypatch):
    run = Run()
    create, stop = pipeline()
    session_id = created(run, create, stop)
    requested = CloudOSHook.pause_session

    def another_pause_lands_first(hook: CloudOSHook, sid: str, **kwargs: Any) -> bool:
        requested(CloudOSHook(), sid, upload_on_close=True)
        return requested(hook, sid, **kwargs)

    monkeypatch.setattr(CloudOSHook, "pause_session", another_pause_lands_first)
    run.execute(stop)

    assert cloudos_conn.session(session_id)["status"] == "aborted"
    assert run.events("stop") == []


def test_a_pause_not_waited_for_records_no_event_and_says_why(cloudos_conn, log_messages):
    run = Run()
    create, stop = pipeline(wait_for_paused=False)
    created(run, create, stop)

    run.execute(stop)

    assert run.events("stop") == []
    assert "Not waiting for the save to end, so no asset event is recorded" in log_messages()


def test_a_refused_pause_records_no_event(cloudos_conn):
    run = Run()
    create, stop = pipeline()
    created(run, create, stop)
    cloudos_conn.faults.fail_next("abort", 403)

    with pytest.raises(AirflowException):
        run.execute(stop)
    assert run.events("stop") == []


@pytest.mark.parametrize("accept_terminated", [False, True])
def test_a_session_terminated_while_pausing_records_no_event(cloudos_conn, accept_terminated):
    run = Run()
    create, stop = pipeline(deferrable=True, accept_terminated=accept_terminated)
    session_id = created(run, create, stop)
    cloudos_conn.set_timings(SLOW_PAUSE)
    with pytest.raises(TaskDeferred) as deferred:
        run.execute(stop)
    cloudos_conn.terminate_session(session_id)

    if accept_terminated:
        assert run.resume(stop, deferred.value) == session_id
    else:
        with pytest.raises(AirflowFailException):
            run.resume(stop, deferred.value)
    assert run.events("stop") == []


def test_a_pause_that_times_out_records_no_event(cloudos_conn):
    run = Run()
    # The pause takes 600 s; 3 s leaves the stop's GET and pause request room on a loaded machine.
    create, stop = pipeline(timeout=3)
    created(run, create, stop)
    cloudos_conn.set_timings(SLOW_PAUSE)

    with pytest.raises(AirflowException, match="paused"):
        run.execute(stop)
    assert run.events("stop") == []


def test_a_block_that_did_not_start_its_session_pauses_nothing_and_records_nothing(cloudos_conn):
    session_id = session_made_elsewhere(cloudos_conn, [S3_FOLDER])
    with _dag("block"), cloudos_session("analysis", session_id=session_id, **FAST) as block:
        pass
    assert block.teardown is not None
    run = Run()
    run.execute(block.setup)
    block.teardown.session_id = session_id
    block.teardown.started = run.xcoms[("analysis.resume", XCOM_STARTED_SESSION)]

    run.execute(block.teardown)

    assert cloudos_conn.session(session_id)["status"] == "ready"
    assert run.events("analysis.pause") == []


# -- the fleet pause ------------------------------------------------------------------------------


@pytest.fixture
def fleet(cloudos_conn: CloudOSSimulator) -> dict[str, str]:
    """Two running sessions with a results folder each, and a paused one that links one too."""
    return {
        "s3": session_made_elsewhere(cloudos_conn, [S3_FOLDER], name="nightly-s3"),
        "project": session_made_elsewhere(cloudos_conn, [PROJECT_FOLDER], name="nightly-project"),
        "paused": session_made_elsewhere(
            cloudos_conn, [EXTRA_FOLDER], name="nightly-paused", status="aborted"
        ),
    }


def _saved(run: Run, task_id: str = "pause") -> list[tuple[str, str]]:
    return sorted((event["extra"]["session_id"], event["uri"]) for event in run.events(task_id))


@pytest.mark.parametrize("deferrable", [False, True])
def test_a_fleet_pause_that_saved_records_each_sessions_folders(cloudos_conn, fleet, deferrable):
    run = Run()
    task = pause_task(statuses="running,paused", wait_for_paused=True, deferrable=deferrable)
    if deferrable:
        with pytest.raises(TaskDeferred) as deferred:
            run.execute(task)
        outcome = run.resume(task, deferred.value)
    else:
        outcome = run.execute(task)

    assert sorted(outcome["paused"]) == sorted([fleet["s3"], fleet["project"]])
    assert _saved(run) == sorted([(fleet["s3"], S3_URI), (fleet["project"], project_uri(cloudos_conn))])


@pytest.mark.parametrize(
    "kwargs",
    [
        {"dry_run": True, "wait_for_paused": True},
        {"wait_for_paused": False},
        {"upload_on_close": False, "wait_for_paused": True},
        {"force": True, "wait_for_paused": True},
    ],
    ids=["dry-run", "not-waited-for", "without-upload", "forced"],
)
def test_a_fleet_pause_that_saved_nothing_records_no_event(cloudos_conn, fleet, kwargs):
    run = Run()
    run.execute(pause_task(**kwargs))
    assert run.events("pause") == []


def test_a_fleet_session_terminated_while_pausing_records_no_event(cloudos_conn, fleet, monkeypatch):
    requested = CloudOSHook.pause_session

    def then_terminated(hook: CloudOSHook, sid: str, **kwargs: Any) -> bool:
        answer = requested(hook, sid, **kwargs)
        if sid == fleet["s3"]:
            cloudos_conn.terminate_session(sid)  # its pause ends in "terminated": nothing saved
        return answer

    monkeypatch.setattr(CloudOSHook, "pause_session", then_terminated)
    run = Run()
    outcome = run.execute(pause_task(wait_for_paused=True))

    assert sorted(outcome["paused"]) == sorted([fleet["s3"], fleet["project"]])
    assert _saved(run) == [(fleet["project"], project_uri(cloudos_conn))]
    # Seen terminated by the wait's first read, it is not read again for its folders.
    assert cloudos_conn.counters.requests("get", fleet["s3"]) == 1
