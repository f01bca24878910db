from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException, TaskDeferred
from operator_helpers import FAST, expiring, make_context, resume_from, run_trigger, trigger_kwargs

from airflow_provider_cloudos.hooks.cloudos import CloudOSHook
from airflow_provider_cloudos.links import CloudOSSessionLink
from airflow_provider_cloudos.operators.sessions import CloudOSResumeSessionOperator
from airflow_provider_cloudos.testing import StateTimings

SLOW_RESUME = StateTimings(resume_initialising=60.0)
PAUSED_OR_PAUSING = ("aborting", "aborted")
PLAIN = {"dataItems": [], "fileSystemIds": []}


def resume(session_id: str, **kwargs) -> CloudOSResumeSessionOperator:
    options = {"task_id": "resume", "session_id": session_id, **FAST}
    options.update(kwargs)
    return CloudOSResumeSessionOperator(**options)


@pytest.fixture
def paused(cloudos_conn) -> str:
    return cloudos_conn.add_session(name="resumable", status="aborted")["_id"]


def test_resumes_a_paused_session_and_waits_until_running(cloudos_conn, paused):
    context = make_context()
    assert resume(paused).execute(context) == paused
    assert cloudos_conn.session(paused)["status"] == "ready"
    assert cloudos_conn.resume_payloads == [(paused, PLAIN)]
    assert context["ti"].last("session_id") == paused
    assert context["ti"].last("session_url").endswith(f"/view/{paused}")


def test_only_changed_fields_are_sent(cloudos_conn, paused):
    resume(paused, instance_type="m5.xlarge", storage_size=600).execute(make_context())
    ((_, payload),) = cloudos_conn.resume_payloads
    assert payload == {
        **PLAIN,
        "newInteractiveSessionConfiguration": {"instanceType": "m5.xlarge", "storageSizeInGb": 600},
    }
    resources = cloudos_conn.session(paused)["resources"]
    assert (resources["instanceType"], resources["storageSizeInGb"]) == ("m5.xlarge", 600)


def test_cost_limit_and_shutdown_are_sent_as_execution(cloudos_conn, paused):
    before = datetime.now(UTC)
    resume(paused, cost_limit="50", shutdown_in="8h").execute(make_context())
    ((_, payload),) = cloudos_conn.resume_payloads
    execution = payload["newInteractiveSessionConfiguration"]["execution"]
    assert set(payload["newInteractiveSessionConfiguration"]) == {"execution"}
    assert execution["computeCostLimit"] == 50
    shutdown = datetime.fromisoformat(execution["autoShutdownAtDate"].replace("Z", "+00:00"))
    assert before + timedelta(hours=8) <= shutdown <= datetime.now(UTC) + timedelta(hours=8)


def test_mounts_and_links_are_resolved_and_sent(cloudos_conn, paused):
    resume(
        paused, mounts="['s3://bucket/data/a.csv', 'genomics/Data/samples.csv']", links="s3://bucket/results/"
    ).execute(make_context())
    ((_, payload),) = cloudos_conn.resume_payloads
    assert [item.get("type", item.get("kind")) for item in payload["dataItems"]] == ["S3File", "File"]
    assert payload["fuseFileSystems"][0]["data"]["s3Prefix"] == "results/"
    assert "newInteractiveSessionConfiguration" not in payload


def test_wait_for_running_false_returns_after_the_request(cloudos_conn, paused):
    cloudos_conn.set_timings(SLOW_RESUME)
    gets_before = cloudos_conn.counters.requests("get")
    resume(paused, wait_for_running="false").execute(make_context())
    assert cloudos_conn.session(paused)["status"] in ("initialising", "initializing")
    assert cloudos_conn.counters.requests("get") == gets_before + 1


def test_already_running_succeeds_without_a_request(cloudos_conn, log_messages):
    running = cloudos_conn.add_session(name="busy", status="ready")["_id"]
    assert resume(running, storage_size=800).execute(make_context()) == running
    assert cloudos_conn.counters.requests("resume") == 0
    messages = " ".join(log_messages())
    assert f"Session {running} is already running; nothing to resume" in messages
    assert "requested changes (resources, mounts, links) were not applied" in messages


def test_already_running_does_not_defer(cloudos_conn):
    running = cloudos_conn.add_session(name="busy", status="ready")["_id"]
    assert resume(running, deferrable=True).execute(make_context()) == running
    assert cloudos_conn.counters.requests("resume") == 0


def test_a_starting_session_is_waited_for_without_a_request(cloudos_conn):
    starting = cloudos_conn.add_session(name="booting", status="initialising")["_id"]
    resume(starting).execute(make_context())
    assert cloudos_conn.session(starting)["status"] == "ready"
    assert cloudos_conn.counters.requests("resume") == 0


def test_a_stopping_session_is_waited_for_then_resumed(cloudos_conn):
    cloudos_conn.set_timings(StateTimings(aborting=0.2))
    stopping = cloudos_conn.add_session(name="pausing", status="aborting")["_id"]
    assert resume(stopping, storage_size=700).execute(make_context()) == stopping
    assert cloudos_conn.session(stopping)["status"] == "ready"
    assert cloudos_conn.counters.requests("resume") == 1
    assert cloudos_conn.counters.requests("abort") == 0


@pytest.mark.parametrize("deferrable", [False, True], ids=["blocking", "deferrable"])
def test_the_cost_guard_does_not_watch_the_wait_for_a_stopping_session_to_pause(cloudos_conn, deferrable):
    """The guard limits what the session costs while the task brings it up; a session already over
    the limit that is still pausing is not failed on while the task waits for the pause."""
    cloudos_conn.set_timings(StateTimings(aborting=0.2))
    stopping = cloudos_conn.add_session(name="pausing", status="aborting", cost=5.0, running_seconds=7200)[
        "_id"
    ]
    task = resume(stopping, max_cost_usd=1, max_runtime="1h", wait_for_running=False, deferrable=deferrable)
    if deferrable:
        with pytest.raises(TaskDeferred) as deferred:
            task.execute(make_context())
        kwargs = trigger_kwargs(deferred.value)
        assert kwargs["target_statuses"] == ["paused"]
        assert "max_cost_usd" not in kwargs
        assert "max_runtime_seconds" not in kwargs
        return
    assert task.execute(make_context()) == stopping
    assert cloudos_conn.counters.requests("resume") == 1


def test_a_stopping_session_deferred_twice_then_completes(cloudos_conn):
    cloudos_conn.set_timings(StateTimings(aborting=0.2, resume_initialising=0.2))
    stopping = cloudos_conn.add_session(name="pausing", status="aborting")["_id"]
    context = make_context()
    task = resume(stopping, deferrable=True)
    with pytest.raises(TaskDeferred) as first:
        task.execute(context)
    assert first.value.method_name == "resume_after_pause"
    first_kwargs = trigger_kwargs(first.value)
    assert first_kwargs["target_statuses"] == ["paused"]
    assert first_kwargs["stop_on_timeout"] is False
    assert cloudos_conn.counters.requests("resume") == 0
    with pytest.raises(TaskDeferred) as second:
        resume_from(first.value, task, context)
    assert second.value.method_name == "execute_complete"
    assert trigger_kwargs(second.value)["target_statuses"] == ["running"]
    assert cloudos_conn.counters.requests("resume") == 1
    assert resume_from(second.value, task, context) == stopping
    assert context["ti"].last("session_summary")["status"] == "running"


def test_deferrable_defers_with_the_right_trigger_then_completes(cloudos_conn, paused):
    context = make_context()
    task = resume(paused, deferrable=True, timeout="15m")
    before = time.time()
    with pytest.raises(TaskDeferred) as deferred:
        task.execute(context)
    assert deferred.value.method_name == "execute_complete"
    kwargs = trigger_kwargs(deferred.value)
    assert kwargs["session_id"] == paused
    assert kwargs["target_statuses"] == ["running"]
    assert kwargs["failure_statuses"] == ["paused", "stopping", "terminated"]
    assert kwargs["stop_on_timeout"] is True
    assert kwargs["stop_on_kill"] is True
    assert before + 900 <= kwargs["end_time"] <= time.time() + 900
    assert task.execute_complete(context, event=run_trigger(deferred.value.trigger)) == paused


def test_a_terminated_session_is_a_clear_failure(cloudos_conn):
    gone = cloudos_conn.add_session(name="gone", status="terminated")["_id"]
    with pytest.raises(AirflowFailException, match=f"Session {gone} is terminated and cannot be resumed"):
        resume(gone).execute(make_context())
    assert cloudos_conn.counters.requests("resume") == 0


@pytest.mark.parametrize(
    ("kwargs", "text"),
    [
        (
            {"mounts": ["s3://bucket/data.csv"]},
            r"Invalid mounts='s3://bucket/data.csv'.*only be mounted on AWS",
        ),
        ({"links": "s3://bucket/results/"}, r"Invalid links='s3://bucket/results/'.*only supported on AWS"),
        (
            {"links": ["genomics/Data/results"]},
            r"Invalid links='genomics/Data/results'.*only supported on AWS",
        ),
        ({"instance_type": "c5.xlarge"}, r"Invalid instance_type='c5.xlarge'.*Azure"),
    ],
)
def test_azure_sessions_refuse_aws_only_changes_without_a_request(cloudos_conn, kwargs, text):
    azure = cloudos_conn.add_session(name="blue", status="aborted", platform="azure")["_id"]
    with pytest.raises(AirflowFailException, match=text):
        resume(azure, **kwargs).execute(make_context())
    assert cloudos_conn.counters.requests("resume") == 0


def test_azure_sessions_take_azure_changes(cloudos_conn):
    azure = cloudos_conn.add_session(name="blue", status="aborted", platform="azure")["_id"]
    resume(azure, instance_type="Standard_D4as_v4", mounts="genomics/Data/samples.csv").execute(
        make_context()
    )
    ((_, payload),) = cloudos_conn.resume_payloads
    assert payload["newInteractiveSessionConfiguration"] == {"instanceType": "Standard_D4as_v4"}
    assert payload["dataItems"][0]["kind"] == "File"


def test_cost_limit_reached_while_waiting_is_explained(cloudos_conn):
    spent = cloudos_conn.add_session(name="spent", status="aborted", cost=12.0, cost_limit=10.0)["_id"]
    with pytest.raises(
        AirflowFailException, match=r"compute cost limit was reached \(\$12\.00 of \$10\.00\)"
    ):
        resume(spent).execute(make_context())


def test_cost_limit_reached_while_deferred_is_explained(cloudos_conn):
    spent = cloudos_conn.add_session(name="spent", status="aborted", cost=3.0, cost_limit=10.0)["_id"]
    context = make_context()
    task = resume(spent, deferrable=True)
    with pytest.raises(TaskDeferred) as deferred:
        task.execute(context)
    cloudos_conn.set_cost(spent, 10.5)
    with pytest.raises(AirflowFailException, match=r"compute cost limit was reached"):
        task.execute_complete(context, event=run_trigger(deferred.value.trigger))


def test_cost_guard_while_waiting_fails_and_pauses(cloudos_conn):
    cloudos_conn.set_timings(SLOW_RESUME)
    spent = cloudos_conn.add_session(name="spent", status="aborted", cost=5.0)["_id"]
    with pytest.raises(AirflowFailException, match=r"reached the limit of \$1\.00.*paused to stop its costs"):
        resume(spent, max_cost_usd="1").execute(make_context())
    assert cloudos_conn.session(spent)["status"] in PAUSED_OR_PAUSING


def test_cost_guard_travels_to_the_trigger(cloudos_conn):
    cloudos_conn.set_timings(SLOW_RESUME)
    spent = cloudos_conn.add_session(name="spent", status="aborted", cost=5.0)["_id"]
    context = make_context()
    task = resume(spent, deferrable=True, max_cost_usd=1, max_runtime="2h")
    with pytest.raises(TaskDeferred) as deferred:
        task.execute(context)
    kwargs = trigger_kwargs(deferred.value)
    assert (kwargs["max_cost_usd"], kwargs["max_runtime_seconds"]) == (1, 7200)
    with pytest.raises(AirflowFailException, match=r"reached the limit.*paused to stop its costs"):
        task.execute_complete(context, event=run_trigger(deferred.value.trigger))
    assert cloudos_conn.session(spent)["status"] in PAUSED_OR_PAUSING


# --- kill and timeout --------------------------------------------------------------------------


def test_sync_timeout_pauses_the_resumed_session(cloudos_conn, paused):
    cloudos_conn.set_timings(SLOW_RESUME)
    with pytest.raises(AirflowException, match=r"did not become running.*paused to stop its costs"):
        resume(paused, timeout=0.5).execute(make_context())
    assert cloudos_conn.session(paused)["status"] in PAUSED_OR_PAUSING


def test_sync_timeout_without_stop_on_kill_leaves_it_starting(cloudos_conn, paused):
    cloudos_conn.set_timings(SLOW_RESUME)
    with pytest.raises(AirflowException, match="did not become running"):
        resume(paused, timeout=0.5, stop_on_kill=False).execute(make_context())
    assert cloudos_conn.counters.requests("abort") == 0


def test_on_kill_during_the_wait_pauses_the_resumed_session(cloudos_conn, paused, monkeypatch):
    cloudos_conn.set_timings(SLOW_RESUME)
    context = make_context()
    task = resume(paused, timeout=30)
    errors: list[BaseException] = []
    waiting = threading.Event()
    wait = CloudOSHook.wait_for_status

    def wait_for_status(self, *args, **kwargs):
        waiting.set()  # CloudOS accepted the resume; the task now waits for running
        return wait(self, *args, **kwargs)

    monkeypatch.setattr(CloudOSHook, "wait_for_status", wait_for_status)

    def run() -> None:
        try:
            task.execute(context)
        except BaseException as error:
            errors.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert waiting.wait(10), "the task never started waiting"
    task.on_kill()
    thread.join(10)
    assert not thread.is_alive(), "the killed task is still waiting"
    assert cloudos_conn.session(paused)["status"] in PAUSED_OR_PAUSING
    (error,) = errors
    assert isinstance(error, AirflowFailException)


def test_killing_a_task_that_did_not_resume_anything_pauses_nothing(cloudos_conn):
    running = cloudos_conn.add_session(name="busy", status="ready")["_id"]
    task = resume(running)
    task.execute(make_context())
    task.on_kill()
    assert cloudos_conn.counters.requests("abort") == 0


def test_deferred_timeout_pauses_the_resumed_session(cloudos_conn, paused):
    cloudos_conn.set_timings(SLOW_RESUME)
    context = make_context()
    task = resume(paused, deferrable=True)
    with pytest.raises(TaskDeferred) as deferred:
        task.execute(context)
    with pytest.raises(AirflowException, match="paused to stop its costs"):
        task.execute_complete(context, event=run_trigger(expiring(deferred.value.trigger)))
    assert cloudos_conn.session(paused)["status"] in PAUSED_OR_PAUSING


def test_operator_has_the_session_link():
    assert any(isinstance(link, CloudOSSessionLink) for link in resume("a" * 24).operator_extra_links)
