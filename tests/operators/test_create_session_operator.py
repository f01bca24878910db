from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pendulum
import pytest
from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException, TaskDeferred
from operator_helpers import FAST, FakeTI, expiring, make_context, run_trigger, trigger_kwargs

from airflow_provider_cloudos.hooks.cloudos import CloudOSHook
from airflow_provider_cloudos.links import CloudOSSessionLink
from airflow_provider_cloudos.operators.sessions import CloudOSCreateSessionOperator
from airflow_provider_cloudos.testing import StateTimings
from airflow_provider_cloudos.testing.seed import object_id

#: Sessions that stay in ``setup`` long enough for any wait to time out or be interrupted.
STUCK_IN_SETUP = StateTimings(scheduled=0.0, setup=60.0)
SAMPLES_FILE_ID = object_id("file:lifebit-genomics-data/genomics/Data/samples.csv")


def create(**kwargs) -> CloudOSCreateSessionOperator:
    options = {"task_id": "create", "name": "analysis", "project_name": "genomics", **FAST}
    options.update(kwargs)
    return CloudOSCreateSessionOperator(**options)


def test_the_last_summary_pushed_is_the_running_session_after_a_blocking_wait(cloudos_conn):
    context = make_context()
    create().execute(context)

    summaries = context["ti"].pushed("session_summary")
    assert summaries[0]["status"] != "running"  # pushed as soon as the session existed
    assert summaries[-1]["status"] == "running"


def config_of(payload: dict) -> dict:
    return payload["interactiveSessionConfiguration"]


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_creates_waits_until_running_and_returns_the_id_with_defaults(cloudos_conn):
    context = make_context()
    before = datetime.now(UTC)
    session_id = create().execute(context)

    assert cloudos_conn.counters.requests("create") == 1
    assert cloudos_conn.session(session_id)["status"] == "ready"
    payload = cloudos_conn.created_payloads[-1]
    assert payload["projectId"] == cloudos_conn.project_id
    config = config_of(payload)
    assert config["name"] == "analysis"
    assert config["backend"] == "regular"
    assert config["executionPlatform"] == "aws"
    assert config["instanceType"] == "c5.xlarge"
    assert config["storageSizeInGb"] == 500
    assert config["isCostSaving"] is False
    assert config["visibility"] == "private"
    assert config["execution"]["computeCostLimit"] == -1
    shutdown = instant(config["execution"]["autoShutdownAtDate"])
    assert before + timedelta(hours=12) <= shutdown <= datetime.now(UTC) + timedelta(hours=12)
    assert "rVersion" not in config
    assert "cluster" not in config
    assert payload["dataItems"] == []
    assert payload["fuseFileSystems"] == []

    ti = context["ti"]
    assert ti.last("session_id") == session_id
    assert (
        ti.last("session_url")
        == f"{cloudos_conn.url}/app/data-science/interactive-analysis/view/{session_id}"
    )
    assert ti.last("session_summary")["id"] == session_id


def test_every_parameter_reaches_the_payload(cloudos_conn):
    before = datetime.now(UTC)
    create(
        name="  full  ",
        session_type="vscode",
        instance_type="m5.2xlarge",
        storage_size=1000,
        spot=True,
        shared=True,
        cost_limit=25.5,
        shutdown_in="30m",
        mounts=["s3://my-bucket/path/to/table.csv", "genomics/Data/samples.csv"],
        links=["s3://my-bucket/outputs/", "genomics/Data/results"],
        wait_for_running=False,
    ).execute(make_context())

    payload = cloudos_conn.created_payloads[-1]
    config = config_of(payload)
    assert config["name"] == "full"
    assert config["backend"] == "vscode"
    assert config["instanceType"] == "m5.2xlarge"
    assert config["storageSizeInGb"] == 1000
    assert config["isCostSaving"] is True
    assert config["visibility"] == "workspace"
    assert config["execution"]["computeCostLimit"] == 25.5
    shutdown = instant(config["execution"]["autoShutdownAtDate"])
    assert before + timedelta(minutes=30) <= shutdown <= datetime.now(UTC) + timedelta(minutes=30)
    assert payload["dataItems"] == [
        {
            "type": "S3File",
            "data": {
                "name": "path/to/table.csv",
                "s3BucketName": "my-bucket",
                "s3ObjectKey": "path/to/table.csv",
            },
        },
        {"kind": "File", "item": SAMPLES_FILE_ID, "name": "samples.csv"},
    ]
    assert payload["fuseFileSystems"] == [
        {
            "type": "S3Folder",
            "data": {"name": "outputs", "s3BucketName": "my-bucket", "s3Prefix": "outputs/"},
        },
        {
            "type": "S3Folder",
            "data": {"name": "results", "s3BucketName": "genomics", "s3Prefix": "Data/results/"},
        },
    ]


def test_links_may_come_comma_separated(cloudos_conn):
    create(links="s3://bucket-a/one/,s3://bucket-b/two/", wait_for_running=False).execute(make_context())
    names = [item["data"]["name"] for item in cloudos_conn.created_payloads[-1]["fuseFileSystems"]]
    assert names == ["one", "two"]


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"session_type": "jupyter"}, {"backend": "regular"}),
        ({"session_type": "rstudio"}, {"backend": "rstudio", "rVersion": "4.5.2"}),
        ({"session_type": "rstudio", "r_version": "4.4.2"}, {"backend": "rstudio", "rVersion": "4.4.2"}),
        ({"execution_platform": "azure"}, {"executionPlatform": "azure", "instanceType": "Standard_F1s"}),
        (
            {"execution_platform": "azure", "instance_type": "Standard_D4as_v4", "session_type": "vscode"},
            {"executionPlatform": "azure", "instanceType": "Standard_D4as_v4", "backend": "vscode"},
        ),
    ],
)
def test_session_types_and_platforms(cloudos_conn, kwargs, expected):
    create(wait_for_running=False, **kwargs).execute(make_context())
    config = config_of(cloudos_conn.created_payloads[-1])
    for key, value in expected.items():
        assert config[key] == value


@pytest.mark.parametrize(
    ("kwargs", "master", "core", "workers"),
    [
        ({}, "c5.2xlarge", "c5.xlarge", 1),
        (
            {"spark_master_type": "m5.4xlarge", "spark_core_type": "r5.2xlarge", "spark_workers": 4},
            "m5.4xlarge",
            "r5.2xlarge",
            4,
        ),
    ],
)
def test_spark_cluster(cloudos_conn, kwargs, master, core, workers):
    create(session_type="spark", name="sparky", wait_for_running=False, **kwargs).execute(make_context())
    cluster = config_of(cloudos_conn.created_payloads[-1])["cluster"]
    assert cluster["name"] == "sparky-cluster"
    assert cluster["instances"]["master"]["type"] == master
    assert cluster["instances"]["core"]["type"] == core
    assert cluster["instances"]["core"]["minNumberOfInstances"] == workers
    assert cluster["autoscaling"]["minCapacity"] == workers
    assert cluster["autoscaling"]["maxCapacity"] == max(2 * workers, 10)


def test_project_id_is_used_without_a_lookup(cloudos_conn):
    create(project_name=None, project_id=cloudos_conn.project_id, wait_for_running=False).execute(
        make_context()
    )
    assert cloudos_conn.created_payloads[-1]["projectId"] == cloudos_conn.project_id
    assert cloudos_conn.counters.requests("projects") == 0


def test_project_name_is_resolved_exactly(cloudos_conn):
    """``genomics`` also matches ``genomics-archive`` in the search; the exact name wins."""
    create(project_name="genomics-archive", wait_for_running=False).execute(make_context())
    archive_id = object_id("project:genomics-archive")
    assert cloudos_conn.created_payloads[-1]["projectId"] == archive_id


def test_unknown_project_is_a_clear_failure_without_a_creation(cloudos_conn):
    with pytest.raises(AirflowFailException, match="no-such-project"):
        create(project_name="no-such-project").execute(make_context())
    assert cloudos_conn.counters.requests("create") == 0


def test_workspace_id_overrides_the_connection(cloudos_conn, monkeypatch):
    connection = json.loads(cloudos_conn.connection_json())
    connection["extra"] = {}
    monkeypatch.setenv("AIRFLOW_CONN_CLOUDOS_DEFAULT", json.dumps(connection))
    session_id = create(workspace_id=cloudos_conn.workspace_id, wait_for_running=False).execute(
        make_context()
    )
    assert cloudos_conn.session(session_id)["name"] == "analysis"


def test_a_workspace_without_permission_is_a_clear_failure(cloudos_conn):
    other = "f" * 24
    with pytest.raises(AirflowFailException, match=f"403.*{other}|{other}.*403|permission.*{other}"):
        create(workspace_id=other, project_id=cloudos_conn.project_id).execute(make_context())
    assert cloudos_conn.counters.requests("create") == 0


def test_no_workspace_anywhere_fails_before_any_request(cloudos_conn, monkeypatch):
    connection = json.loads(cloudos_conn.connection_json())
    connection["extra"] = {}
    monkeypatch.setenv("AIRFLOW_CONN_CLOUDOS_DEFAULT", json.dumps(connection))
    with pytest.raises(AirflowFailException, match="workspace_id"):
        create().execute(make_context())
    assert cloudos_conn.counters.requests() == 0


def test_wait_for_running_false_returns_right_after_creation(cloudos_conn):
    cloudos_conn.set_timings(STUCK_IN_SETUP)
    context = make_context()
    session_id = create(wait_for_running=False).execute(context)
    assert cloudos_conn.counters.requests("get") == 0
    assert cloudos_conn.session(session_id)["status"] == "setup"
    assert context["ti"].last("session_id") == session_id


def test_xcom_is_pushed_before_waiting_so_it_survives_a_failed_wait(cloudos_conn):
    cloudos_conn.set_timings(STUCK_IN_SETUP)
    context = make_context()
    with pytest.raises(AirflowException, match=r"did not become running within 1s; last status: setup"):
        create(timeout=0.2, stop_on_kill=False).execute(context)
    (session_id,) = context["ti"].pushed("session_id")
    assert context["ti"].last("session_url").endswith(f"/view/{session_id}")
    assert context["ti"].last("session_summary")["status"] in ("scheduled", "setup")
    assert cloudos_conn.session(session_id)["status"] == "setup", "stop_on_kill=False leaves it alone"


def test_operator_has_the_session_link():
    assert any(isinstance(link, CloudOSSessionLink) for link in create().operator_extra_links)


# --- templates ------------------------------------------------------------------------------


def test_rendered_strings_are_accepted(cloudos_conn):
    """With render_template_as_native_obj=False every templated value arrives as a string."""
    context = make_context()
    session_id = create(
        storage_size="600",
        spot="true",
        shared="False",
        cost_limit="500",
        shutdown_in="8h",
        mounts="['s3://bucket/k.csv']",
        links="s3://bucket/a/,s3://bucket/b/",
        spark_workers="3",
        session_type="spark",
        wait_for_running="false",
        reuse_existing="true",
        stop_on_kill="no",
        poll_interval="0.02",
        timeout="30m",
    ).execute(context)
    config = config_of(cloudos_conn.created_payloads[-1])
    assert config["storageSizeInGb"] == 600
    assert config["isCostSaving"] is True
    assert config["visibility"] == "private"
    assert config["execution"]["computeCostLimit"] == 500
    assert config["cluster"]["instances"]["core"]["minNumberOfInstances"] == 3
    assert cloudos_conn.created_payloads[-1]["dataItems"][0]["data"]["s3ObjectKey"] == "k.csv"
    assert len(cloudos_conn.created_payloads[-1]["fuseFileSystems"]) == 2
    assert cloudos_conn.counters.requests("get") == 0, "wait_for_running='false' means no waiting"
    assert session_id


def test_empty_rendered_strings_mean_the_default(cloudos_conn):
    create(
        instance_type="",
        storage_size="",
        cost_limit="",
        shutdown_in="",
        mounts="",
        links="",
        wait_for_running=False,
    ).execute(make_context())
    config = config_of(cloudos_conn.created_payloads[-1])
    assert config["instanceType"] == "c5.xlarge"
    assert config["storageSizeInGb"] == 500
    assert config["execution"]["computeCostLimit"] == -1


def test_a_dag_renders_params_conf_and_upstream_xcom(cloudos_conn):
    from airflow.providers.common.compat.sdk import DAG

    with DAG(
        "templated_create", schedule=None, start_date=pendulum.datetime(2024, 1, 1), params={"size": 700}
    ) as dag:
        task = create(
            name="{{ params.prefix }}-{{ dag_run.conf['suffix'] }}",
            storage_size="{{ params.size }}",
            spot="{{ dag_run.conf['spot'] }}",
            mounts="{{ ti.xcom_pull(task_ids='list_inputs') }}",
            wait_for_running="{{ dag_run.conf['wait'] }}",
        )
    assert "mounts" in task.template_fields

    class UpstreamTI(FakeTI):
        def xcom_pull(self, task_ids: str, key: str = "return_value") -> list[str]:
            assert task_ids == "list_inputs"
            return ["s3://inputs/reads.fastq"]

    ti = UpstreamTI()
    params = dict(dag.params)
    params["prefix"] = "run"
    context = {
        "params": params,
        "dag_run": SimpleNamespace(conf={"suffix": "7", "spot": True, "wait": False}),
    }
    context["ti"] = ti
    task.render_template_fields(context)
    session_id = task.execute(context)

    config = config_of(cloudos_conn.created_payloads[-1])
    assert config["name"] == "run-7"
    assert config["storageSizeInGb"] == 700
    assert config["isCostSaving"] is True
    assert cloudos_conn.created_payloads[-1]["dataItems"][0]["data"]["s3ObjectKey"] == "reads.fastq"
    assert ti.last("session_id") == session_id


# --- deferrable -------------------------------------------------------------------------------


def test_deferrable_defers_with_the_right_trigger_then_completes(cloudos_conn):
    context = make_context()
    task = create(deferrable=True, timeout=600, poll_interval=0.02)
    before = time.time()
    with pytest.raises(TaskDeferred) as deferred:
        task.execute(context)
    assert deferred.value.method_name == "execute_complete"
    kwargs = trigger_kwargs(deferred.value)
    session_id = context["ti"].last("session_id")
    assert kwargs["session_id"] == session_id
    assert kwargs["cloudos_conn_id"] == "cloudos_default"
    assert kwargs["target_statuses"] == ["running"]
    assert kwargs["failure_statuses"] == ["paused", "stopping", "terminated"]
    assert kwargs["stop_on_timeout"] is True
    assert kwargs["stop_on_kill"] is True
    assert kwargs["poll_interval"] == 0.02
    assert before + 600 <= kwargs["end_time"] <= time.time() + 600
    assert deferred.value.timeout.total_seconds() > 600, "Airflow's timeout is only a safety net"
    assert cloudos_conn.counters.requests("create") == 1

    event = run_trigger(deferred.value.trigger)
    assert task.execute_complete(context, event=event) == session_id
    assert context["ti"].last("session_summary")["status"] == "running"


def test_deferrable_without_stop_on_kill_asks_the_trigger_not_to_pause(cloudos_conn):
    with pytest.raises(TaskDeferred) as deferred:
        create(deferrable=True, stop_on_kill="false", workspace_id=cloudos_conn.workspace_id).execute(
            make_context()
        )
    kwargs = trigger_kwargs(deferred.value)
    assert kwargs["stop_on_timeout"] is False
    assert kwargs["stop_on_kill"] is False
    assert kwargs["workspace_id"] == cloudos_conn.workspace_id


def test_deferrable_does_not_defer_when_the_session_is_already_running(cloudos_conn):
    cloudos_conn.set_timings(StateTimings(scheduled=0.0, setup=0.0, initialising=0.0))
    context = make_context()
    session_id = create(deferrable=True).execute(context)
    assert cloudos_conn.session(session_id)["status"] == "ready"


def test_deferred_timeout_pauses_the_session_and_fails_with_the_reason(cloudos_conn):
    cloudos_conn.set_timings(STUCK_IN_SETUP)
    context = make_context()
    task = create(deferrable=True)
    with pytest.raises(TaskDeferred) as deferred:
        task.execute(context)
    session_id = context["ti"].last("session_id")
    event = run_trigger(expiring(deferred.value.trigger))
    assert event["status"] == "timeout"
    with pytest.raises(AirflowException, match=r"last status: setup.*paused to stop its costs"):
        task.execute_complete(context, event=event)
    assert cloudos_conn.session(session_id)["status"] in ("aborting", "aborted")


def test_deferred_failure_when_the_session_is_paused_by_someone_else(cloudos_conn):
    cloudos_conn.set_timings(STUCK_IN_SETUP)
    context = make_context()
    task = create(deferrable=True)
    with pytest.raises(TaskDeferred) as deferred:
        task.execute(context)
    CloudOSHook().pause_session(context["ti"].last("session_id"))
    event = run_trigger(deferred.value.trigger)
    with pytest.raises(AirflowFailException, match="while waiting for running"):
        task.execute_complete(context, event=event)
