from __future__ import annotations

import asyncio
import re
import time
from types import SimpleNamespace

import pytest
from loop_watch import slow_loop_steps

from airflow_provider_cloudos import compat
from airflow_provider_cloudos.client.async_client import AsyncCloudOSClient
from airflow_provider_cloudos.client.sync import CloudOSClient
from airflow_provider_cloudos.client.transport import RetryPolicy
from airflow_provider_cloudos.testing import StateTimings
from airflow_provider_cloudos.triggers import sessions as sessions_module
from airflow_provider_cloudos.triggers.sessions import CloudOSSessionTrigger, run_to_the_end

CLASSPATH = "airflow_provider_cloudos.triggers.sessions.CloudOSSessionTrigger"


async def wait_for_kill_paths() -> None:
    """Wait until every kill-path task (:func:`run_to_the_end`) has ended."""
    while sessions_module._RUNNING:
        await asyncio.gather(*list(sessions_module._RUNNING), return_exceptions=True)


async def first_event(trigger: CloudOSSessionTrigger, limit: float = 30.0) -> dict:
    """Run the trigger like the triggerer does and return its first (and only) event payload."""

    async def collect() -> list[dict]:
        events = []
        async for event in trigger.run():
            events.append(event.payload)
        return events

    events = await asyncio.wait_for(collect(), timeout=limit)
    assert len(events) == 1, events
    return events[0]


async def polled(sim, session_id: str, times: int = 1) -> None:
    """Return once the trigger has polled ``session_id`` (it is mid-wait): an event, not a sleep."""
    for _ in range(2000):  # bounds a broken run at about 10 s
        if sim.counters.requests("get", session_id) >= times:
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"session {session_id} was never polled")


def make_trigger(session_id: str, **overrides) -> CloudOSSessionTrigger:
    options = {
        "session_id": session_id,
        "end_time": time.time() + 20,
        "poll_interval": 0.02,
    }
    options.update(overrides)
    return CloudOSSessionTrigger(**options)


@pytest.fixture
def fast_retries(monkeypatch):
    """Make the async client's backoff tiny so transient-error tests take milliseconds."""
    from airflow_provider_cloudos.client import async_client

    original = async_client.AsyncCloudOSClient.__init__

    def init(self, *args, **kwargs):
        kwargs["retry_policy"] = RetryPolicy(backoff_base=0.01, backoff_max=0.05, retry_after_max=1.5)
        original(self, *args, **kwargs)

    monkeypatch.setattr(async_client.AsyncCloudOSClient, "__init__", init)


def test_serialize_gives_exactly_the_primitives_needed_and_no_key():
    trigger = CloudOSSessionTrigger(
        session_id="a" * 24,
        end_time=1_900_000_000.5,
        cloudos_conn_id="my_cloudos",
        workspace_id="b" * 24,
        target_statuses=["ready", "paused"],
        failure_statuses=["terminated"],
        poll_interval=15,
        started_at=1_899_999_000.0,
        stop_on_timeout=True,
        stop_on_kill=True,
        upload_on_close=False,
    )
    classpath, kwargs = trigger.serialize()
    assert classpath == CLASSPATH
    assert kwargs == {
        "session_id": "a" * 24,
        "end_time": 1_900_000_000.5,
        "cloudos_conn_id": "my_cloudos",
        "workspace_id": "b" * 24,
        "target_statuses": ["paused", "running"],
        "failure_statuses": ["terminated"],
        "poll_interval": 15.0,
        "started_at": 1_899_999_000.0,
        "stop_on_timeout": True,
        "stop_on_kill": True,
        "upload_on_close": False,
    }
    assert all(isinstance(v, (str, float, bool, list, type(None))) for v in kwargs.values())


def test_recreated_trigger_keeps_the_original_deadline_and_start():
    original = make_trigger("c" * 24, end_time=1_800_000_123.25, started_at=1_800_000_000.0)
    _, kwargs = original.serialize()
    recreated = CloudOSSessionTrigger(**kwargs)
    assert recreated.serialize() == original.serialize()
    assert recreated.end_time == 1_800_000_123.25
    assert recreated.started_at == 1_800_000_000.0


def test_unknown_target_status_is_refused_naming_it():
    with pytest.raises(ValueError, match=r"target_status='sleeping'"):
        CloudOSSessionTrigger(session_id="a" * 24, end_time=0, target_statuses=["sleeping"])


@pytest.mark.asyncio
async def test_success_after_passing_through_setup_and_initialising(cloudos_conn, log_messages):
    session = cloudos_conn.add_session(name="fresh", status="scheduled")
    event = await first_event(make_trigger(session["_id"]))
    assert event["status"] == "success"
    assert event["session_status"] == "running"
    assert event["api_status"] == "ready"
    assert event["summary"]["id"] == session["_id"]
    assert event["summary"]["url"].endswith(f"/app/data-science/interactive-analysis/view/{session['_id']}")
    changes = [m for m in log_messages() if m.startswith(f"Session {session['_id']} is ")]
    seen = [line.split(" is ")[1].split(" after")[0] for line in changes]
    assert seen[-1] == "running"
    assert "initialising" in seen
    assert len(seen) == len(set(seen)), "each status change is logged once"


@pytest.mark.asyncio
async def test_failure_when_the_session_is_terminated(cloudos_conn):
    session = cloudos_conn.add_session(name="gone", status="terminated")
    event = await first_event(make_trigger(session["_id"]))
    assert event["status"] == "failure"
    assert event["session_status"] == "terminated"
    assert "terminated while waiting for running" in event["message"]


@pytest.mark.asyncio
async def test_failure_on_a_refusal_that_will_not_change(cloudos_conn):
    event = await first_event(make_trigger("d" * 24))
    assert event["status"] == "failure"
    assert "404" in event["message"]


@pytest.mark.asyncio
async def test_timeout_reports_the_last_status_and_can_pause(cloudos_conn):
    cloudos_conn.set_timings(StateTimings(scheduled=0.0, setup=60.0))
    session = cloudos_conn.add_session(name="slow", status="setup")
    event = await first_event(make_trigger(session["_id"], end_time=time.time() + 0.2, stop_on_timeout=True))
    assert event["status"] == "timeout"
    assert event["session_status"] == "setup"
    assert "last status: setup" in event["message"]
    assert event["stopped"] is True
    assert cloudos_conn.session(session["_id"])["status"] in ("aborting", "aborted")


@pytest.mark.asyncio
async def test_timeout_without_stop_leaves_the_session_alone(cloudos_conn):
    cloudos_conn.set_timings(StateTimings(scheduled=0.0, setup=60.0))
    session = cloudos_conn.add_session(name="slow", status="setup")
    event = await first_event(make_trigger(session["_id"], end_time=time.time() + 0.1))
    assert event["status"] == "timeout"
    assert event["stopped"] is False
    assert cloudos_conn.counters.requests("abort") == 0


@pytest.mark.asyncio
async def test_an_expired_deadline_still_polls_once(cloudos_conn):
    session = cloudos_conn.add_session(name="ready", status="ready")
    event = await first_event(make_trigger(session["_id"], end_time=time.time() - 5))
    assert event["status"] == "success"


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "fault",
    [
        {"status": 503, "count": 3},
        {"status": 429, "count": 2, "retry_after": 1},
        {"status": 0, "count": 2, "drop": True},
    ],
    ids=["503s", "429-retry-after", "dropped-connections"],
)
async def test_transient_errors_are_survived(cloudos_conn, fast_retries, fault):
    session = cloudos_conn.add_session(name="flaky", status="initialising")
    fault = dict(fault)  # the parameter is shared by reruns of this test: leave it whole
    status = fault.pop("status")
    cloudos_conn.faults.fail_next("get", status or 503, **fault)
    event = await first_event(make_trigger(session["_id"]))
    assert event["status"] == "success"
    assert cloudos_conn.faults.pending_one_shots == 0


@pytest.mark.asyncio
async def test_errors_until_the_deadline_end_as_error(cloudos_conn, fast_retries):
    session = cloudos_conn.add_session(name="down", status="setup")
    cloudos_conn.faults.only_endpoints = {"get"}
    cloudos_conn.faults.error_rate = 1.0
    event = await first_event(make_trigger(session["_id"], end_time=time.time() + 0.3))
    assert event["status"] == "error"
    assert "kept failing" in event["message"]


@pytest.mark.asyncio
async def test_one_pooled_connection_for_the_whole_wait(cloudos_conn):
    cloudos_conn.set_timings(StateTimings(scheduled=0.1, setup=0.1, initialising=0.1))
    session = cloudos_conn.add_session(name="pooled", status="scheduled")
    cloudos_conn.counters.reset()
    event = await first_event(make_trigger(session["_id"]))
    assert event["status"] == "success"
    assert cloudos_conn.counters.requests("get") >= 5
    assert cloudos_conn.counters.connections_accepted == 1


#: Seconds the simulator takes to answer in the loop-blocking tests. A call that blocks the loop
#: holds one loop step for at least this long, whatever the machine's load; a trigger that awaits
#: spends microseconds per step. Steps longer than half of it are flagged.
SLOW_ANSWER = 1.0


def blocking_get_session(sim):
    """An async ``get_session`` that does its HTTP the blocking way, as a careless client would."""

    async def get_session(self, session_id, *args, **kwargs):
        with CloudOSClient(sim.url, sim.api_key, sim.workspace_id) as client:
            return client.get_session(session_id)

    return get_session


@pytest.mark.asyncio
async def test_the_event_loop_is_never_blocked(cloudos_conn):
    cloudos_conn.set_timings(StateTimings(scheduled=0.2, setup=0.2, initialising=0.2))
    sessions = [cloudos_conn.add_session(name=f"s{i}", status="scheduled") for i in range(10)]
    cloudos_conn.faults.latency = SLOW_ANSWER
    with slow_loop_steps(SLOW_ANSWER / 2) as slow:
        events = await asyncio.gather(*(first_event(make_trigger(s["_id"])) for s in sessions))
    assert {e["status"] for e in events} == {"success"}
    # Every answer took SLOW_ANSWER: reads of one session and the shared reader's list pages alike.
    assert cloudos_conn.counters.requests("get") + cloudos_conn.counters.requests("list") >= 2
    assert slow == [], "a loop step lasted as long as an API answer: something blocked the loop"


@pytest.mark.asyncio
async def test_the_blocking_detector_flags_a_blocking_client(cloudos_conn, monkeypatch):
    """The check above can fail: the same wait with a client that blocks is caught."""
    session = cloudos_conn.add_session(name="blocked", status="ready")
    cloudos_conn.faults.latency = SLOW_ANSWER
    monkeypatch.setattr(AsyncCloudOSClient, "get_session", blocking_get_session(cloudos_conn))
    with slow_loop_steps(SLOW_ANSWER / 2) as slow:
        event = await first_event(make_trigger(session["_id"]))
    assert event["status"] == "success"
    assert len(slow) == 1, slow
    took = re.search(r" took (\d+\.\d+) seconds$", slow[0])
    assert took is not None, slow[0]
    assert float(took.group(1)) >= SLOW_ANSWER, "the step held the loop for the whole answer"


@pytest.mark.asyncio
async def test_the_api_key_never_appears_in_kwargs_events_or_repr(cloudos_conn, sentinel_api_key):
    session = cloudos_conn.add_session(name="secret", status="ready")
    trigger = make_trigger(session["_id"], stop_on_kill=True)
    event = await first_event(trigger)
    assert sentinel_api_key not in repr(trigger.serialize())
    assert sentinel_api_key not in repr(trigger)
    assert sentinel_api_key not in repr(event)


@pytest.mark.asyncio
async def test_on_kill_pauses_the_session_when_told_to(cloudos_conn):
    session = cloudos_conn.add_session(name="killed", status="ready")
    await make_trigger(session["_id"], stop_on_kill=True).on_kill()
    assert cloudos_conn.session(session["_id"])["status"] in ("aborting", "aborted")


@pytest.mark.asyncio
async def test_on_kill_leaves_the_session_when_not_told_to(cloudos_conn):
    session = cloudos_conn.add_session(name="kept", status="ready")
    await make_trigger(session["_id"], stop_on_kill=False).on_kill()
    assert cloudos_conn.session(session["_id"])["status"] == "ready"
    assert cloudos_conn.counters.requests("abort") == 0


@pytest.mark.asyncio
async def test_on_kill_does_nothing_while_the_task_is_still_deferred_elsewhere(cloudos_conn, monkeypatch):
    async def still_deferred(trigger):
        return "deferred"

    monkeypatch.setattr(compat, "_task_state", still_deferred)
    session = cloudos_conn.add_session(name="moved", status="ready")
    trigger = make_trigger(session["_id"], stop_on_kill=True)
    trigger.task_instance = SimpleNamespace(dag_id="dag", task_id="task", run_id="run", map_index=-1)
    await trigger.on_kill()
    assert cloudos_conn.counters.requests("abort") == 0


@pytest.mark.asyncio
async def test_on_kill_does_nothing_after_the_event_was_yielded(cloudos_conn):
    session = cloudos_conn.add_session(name="done", status="ready")
    trigger = make_trigger(session["_id"], stop_on_kill=True)
    await first_event(trigger)
    await trigger.on_kill()
    assert cloudos_conn.counters.requests("abort") == 0


@pytest.mark.asyncio
async def test_on_kill_of_an_already_paused_session_is_quiet(cloudos_conn):
    session = cloudos_conn.add_session(name="paused", status="aborted")
    await make_trigger(session["_id"], stop_on_kill=True).on_kill()
    assert cloudos_conn.session(session["_id"])["status"] == "aborted"


@pytest.mark.asyncio
async def test_cancellation_without_on_kill_support_pauses_only_a_task_that_is_gone(
    cloudos_conn, monkeypatch
):
    cloudos_conn.set_timings(StateTimings(scheduled=0.0, setup=60.0))
    monkeypatch.setattr(compat, "trigger_has_on_kill", lambda: False)

    async def state_of(trigger):
        return trigger.fake_state

    monkeypatch.setattr(compat, "_task_state", state_of)
    for fake_state, expect_paused in (("deferred", False), ("failed", True)):
        session = cloudos_conn.add_session(name=f"cancel-{fake_state}", status="setup")
        trigger = make_trigger(session["_id"], stop_on_kill=True)
        trigger.task_instance = SimpleNamespace(dag_id="dag", task_id="task", run_id="run", map_index=-1)
        monkeypatch.setattr(compat, "_task_identity", lambda trigger: ("dag", "task", "run", -1))
        trigger.fake_state = fake_state
        task = asyncio.create_task(first_event(trigger))
        await polled(cloudos_conn, session["_id"])
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        paused = cloudos_conn.session(session["_id"])["status"] in ("aborting", "aborted")
        assert paused is expect_paused, fake_state


@pytest.mark.asyncio
async def test_a_cancellation_after_the_event_was_made_never_pauses(cloudos_conn, monkeypatch):
    """Before 3.3 a cancellation that arrives once the wait has ended (here while the trigger
    closes its client, after making its event) is the triggerer cleaning up, not a kill: the task
    is told its session is running, so it must not be paused, whatever the task's state says."""
    from airflow_provider_cloudos.hooks.cloudos import CloudOSHook

    monkeypatch.setattr(compat, "trigger_has_on_kill", lambda: False)
    monkeypatch.setattr(compat, "_task_identity", lambda trigger: ("dag", "task", "run", -1))

    async def gone(trigger):
        return "failed"  # a task no longer deferred: a cancellation before the event would pause

    monkeypatch.setattr(compat, "_task_state", gone)
    closing, never = asyncio.Event(), asyncio.Event()
    close = CloudOSHook.aclose

    async def slow_first_close(hook):
        if closing.is_set():
            return await close(hook)
        closing.set()
        try:
            await never.wait()  # cancelled here
        finally:
            await close(hook)

    monkeypatch.setattr(CloudOSHook, "aclose", slow_first_close)
    session = cloudos_conn.add_session(name="ended", status="ready")
    trigger = make_trigger(session["_id"], stop_on_kill=True)
    trigger.task_instance = SimpleNamespace(dag_id="dag", task_id="task", run_id="run", map_index=-1)
    task = asyncio.create_task(first_event(trigger))
    await asyncio.wait_for(closing.wait(), 10)
    assert cloudos_conn.counters.requests("get", session["_id"]) >= 1  # the wait saw it running
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.wait_for(wait_for_kill_paths(), 30)
    assert cloudos_conn.counters.requests("abort") == 0


@pytest.mark.asyncio
async def test_cancellation_on_airflow_with_on_kill_never_pauses(cloudos_conn, monkeypatch):
    cloudos_conn.set_timings(StateTimings(scheduled=0.0, setup=60.0))
    monkeypatch.setattr(compat, "trigger_has_on_kill", lambda: True)
    session = cloudos_conn.add_session(name="shutdown", status="setup")
    task = asyncio.create_task(first_event(make_trigger(session["_id"], stop_on_kill=True)))
    await polled(cloudos_conn, session["_id"])
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert cloudos_conn.counters.requests("abort") == 0


@pytest.mark.asyncio
async def test_a_status_the_deferring_task_already_logged_is_not_logged_again(cloudos_conn, log_messages):
    cloudos_conn.set_timings(StateTimings(scheduled=0.0, setup=0.15))
    session = cloudos_conn.add_session(name="handed-over", status="setup")
    trigger = make_trigger(session["_id"], last_status="setup")
    assert trigger.serialize()[1]["last_status"] == "setup"
    event = await first_event(trigger)
    assert event["status"] == "success"
    changes = [m for m in log_messages() if m.startswith(f"Session {session['_id']} is ")]
    assert not any(" is setup after" in line for line in changes)
    assert any(" is running after" in line for line in changes)


def test_last_status_is_left_out_of_the_kwargs_when_unknown():
    assert "last_status" not in make_trigger("a" * 24).serialize()[1]


@pytest.mark.asyncio
async def test_on_kill_pauses_even_when_airflow_cancels_it_again_midway(cloudos_conn, monkeypatch):
    """Airflow 3.3 repeats the cancellation about once a second while on_kill runs; the pause survives."""
    asked = asyncio.Event()
    answer = asyncio.Event()

    async def slow_state(trigger):
        asked.set()
        await answer.wait()
        return "failed"

    monkeypatch.setattr(compat, "_task_state", slow_state)
    session = cloudos_conn.add_session(name="killed-twice", status="ready")
    trigger = make_trigger(session["_id"], stop_on_kill=True)
    trigger.task_instance = SimpleNamespace(dag_id="dag", task_id="task", run_id="run", map_index=-1)
    on_kill = asyncio.ensure_future(trigger.on_kill())
    await asyncio.wait_for(asked.wait(), 10)
    on_kill.cancel()  # the second cancellation, while the task state is being asked for
    with pytest.raises(asyncio.CancelledError):
        await on_kill
    answer.set()
    await asyncio.wait_for(wait_for_kill_paths(), 30)
    assert cloudos_conn.session(session["_id"])["status"] in ("aborting", "aborted")
    assert cloudos_conn.counters.requests("abort") == 1


@pytest.mark.asyncio
async def test_cancellation_cleanup_survives_a_second_cancellation(cloudos_conn, monkeypatch):
    """Before 3.3 a kill is a cancellation of run(); a repeated one must not drop the pause."""
    asked = asyncio.Event()
    answer = asyncio.Event()

    async def slow_state(trigger):
        asked.set()
        await answer.wait()
        return "failed"

    cloudos_conn.set_timings(StateTimings(scheduled=0.0, setup=60.0))
    monkeypatch.setattr(compat, "trigger_has_on_kill", lambda: False)
    monkeypatch.setattr(compat, "_task_state", slow_state)
    monkeypatch.setattr(compat, "_task_identity", lambda trigger: ("dag", "task", "run", -1))
    session = cloudos_conn.add_session(name="cancelled-twice", status="setup")
    trigger = make_trigger(session["_id"], stop_on_kill=True)
    runner = asyncio.ensure_future(first_event(trigger))
    while cloudos_conn.counters.requests("get") == 0:  # the trigger is polling: its wait is on
        await asyncio.sleep(0.01)
    runner.cancel()
    await asyncio.wait_for(asked.wait(), 10)
    runner.cancel()  # cancelled again while deciding whether the task is gone
    with pytest.raises(asyncio.CancelledError):
        await runner
    answer.set()
    await asyncio.wait_for(wait_for_kill_paths(), 30)
    assert cloudos_conn.counters.requests("abort") == 1


# -- the kill path: the pauses a killed task needs run to their end, and can be waited for ------


@pytest.mark.asyncio
async def test_waiting_for_kill_paths_outlasts_one_that_failed() -> None:
    """One kill path that raised must not end the wait for the others (a triggerer shutting down
    waits for every pause still under way)."""
    fail, release = asyncio.Event(), asyncio.Event()
    paused: list[str] = []

    async def failing_pause() -> None:
        await fail.wait()
        raise RuntimeError("the pause request failed")

    async def slow_pause() -> None:
        await release.wait()
        paused.append("slow")

    callers = [asyncio.ensure_future(run_to_the_end(work())) for work in (failing_pause, slow_pause)]
    await asyncio.sleep(0)
    waiting = asyncio.ensure_future(wait_for_kill_paths())
    await asyncio.sleep(0)
    fail.set()
    await asyncio.sleep(0.05)
    assert not waiting.done(), "the wait ended while a pause was still under way"
    release.set()
    await asyncio.wait_for(waiting, 5)
    assert paused == ["slow"]
    outcomes = await asyncio.gather(*callers, return_exceptions=True)
    assert isinstance(outcomes[0], RuntimeError)
    assert outcomes[1] is None


@pytest.mark.asyncio
async def test_a_kill_path_goes_on_when_its_caller_is_cancelled() -> None:
    release = asyncio.Event()
    paused: list[str] = []

    async def pause() -> None:
        await release.wait()
        paused.append("paused")

    caller = asyncio.ensure_future(run_to_the_end(pause()))
    await asyncio.sleep(0)
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller
    release.set()
    await asyncio.wait_for(wait_for_kill_paths(), 5)
    assert paused == ["paused"]
