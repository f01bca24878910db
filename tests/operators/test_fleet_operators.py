"""The fleet operators against the simulator, and the cost/runtime guards on every waiter.

The fleet is 250 sessions, more than two pages of the list endpoint (100 per page) even after
the server's status filter: mixed statuses, owners, costs and runtimes, names with an
allow-listed few. Provisioning is slowed right down so that no session changes state on its own
while a test looks at it; pausing stays fast.
"""

from __future__ import annotations

import asyncio
import csv
import functools
import importlib.util
import json
import time
from pathlib import Path
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import (
    AirflowException,
    AirflowFailException,
    PokeReturnValue,
    TaskDeferred,
)
from operator_helpers import FakeTI, rendered

from airflow_provider_cloudos.client import sync as sync_client
from airflow_provider_cloudos.client.transport import RetryPolicy
from airflow_provider_cloudos.core.errors import CloudOSGuardError
from airflow_provider_cloudos.core.waiting import SessionGuard
from airflow_provider_cloudos.hooks.cloudos import CloudOSHook
from airflow_provider_cloudos.operators.cloudos_task import InvalidLiteralParameter
from airflow_provider_cloudos.operators.fleet import (
    XCOM_PAUSE_RESULTS,
    CloudOSPauseSessionsOperator,
    CloudOSSessionReportOperator,
)
from airflow_provider_cloudos.operators.sessions import (
    CloudOSCreateSessionOperator,
    CloudOSResumeSessionOperator,
)
from airflow_provider_cloudos.sensors.sessions import CloudOSSessionSensor
from airflow_provider_cloudos.testing import CloudOSSimulator, ManualClock, StateTimings
from airflow_provider_cloudos.triggers.fleet import CloudOSFleetTrigger
from airflow_provider_cloudos.triggers.sessions import CloudOSSessionTrigger

REPO_ROOT = Path(__file__).resolve().parents[2]
FLEET_SIZE = 250
#: Nothing provisions on its own during a test; a pause takes 50 ms.
STILL = StateTimings(scheduled=600, setup=600, initialising=600, aborting=0.05, resume_initialising=600)
FAST = {"poll_interval": 0.02, "timeout": 20}
PAUSED_OR_PAUSING = ("aborting", "aborted")


def context() -> dict[str, Any]:
    """The context of the pause task ``pause_op`` makes."""
    ti = FakeTI()
    ti.task_id = "pause"
    return {"ti": ti}


def run_trigger(trigger: Any, limit: float = 20.0) -> dict[str, Any]:
    async def collect() -> list[dict[str, Any]]:
        return [event.payload async for event in trigger.run()]

    events = asyncio.run(asyncio.wait_for(collect(), timeout=limit))
    assert len(events) == 1, events
    return events[0]


# --- the fleet ---------------------------------------------------------------------------------


def fleet_member(i: int) -> dict[str, Any]:
    """Session number ``i`` of the fleet: 220 running, 10 paused, 10 terminated, 10 in setup."""
    status = {0: "aborted", 1: "terminated", 2: "setup"}.get(i % 25, "ready")
    return {
        "name": f"keep-{i:03d}" if i % 25 == 5 else f"nightly-{i:03d}",
        "status": status,
        "owner": "other" if i % 3 == 0 else "me",
        "cost": i * 0.5,
        "running_seconds": i * 60.0,
    }


@pytest.fixture
def fleet(cloudos_conn: CloudOSSimulator) -> dict[str, dict[str, Any]]:
    """id → the spec of each of the 250 sessions."""
    cloudos_conn.set_timings(STILL)
    members = {}
    for i in range(FLEET_SIZE):
        spec = fleet_member(i)
        members[cloudos_conn.add_session(**spec)["_id"]] = spec
    cloudos_conn.counters.reset()
    return members


def ids_where(fleet: dict[str, dict[str, Any]], **wanted: Any) -> set[str]:
    return {sid for sid, spec in fleet.items() if all(check(spec) for check in wanted.values())}


def running(spec: dict[str, Any]) -> bool:
    return spec["status"] == "ready"


def not_kept(spec: dict[str, Any]) -> bool:
    return not spec["name"].startswith("keep-")


def pause_op(**kwargs: Any) -> CloudOSPauseSessionsOperator:
    return CloudOSPauseSessionsOperator(task_id="pause", **{**FAST, **kwargs})


# --- pausing a fleet -----------------------------------------------------------------------------


def test_dry_run_lists_every_page_and_changes_nothing(cloudos_conn, fleet):
    before = {sid: cloudos_conn.session(sid)["status"] for sid in fleet}
    result = pause_op(exclude_names=["keep-*"], dry_run=True).execute(context())
    expected = ids_where(fleet, a=running, b=not_kept)
    assert len(expected) == 210
    assert set(result["matched"]) == expected
    assert result["dry_run"] is True
    assert result["paused"] == []
    assert set(result["results"].values()) == {"would pause"}
    assert cloudos_conn.counters.requests("list") == 3, "220 running sessions are 3 pages of 100"
    assert cloudos_conn.counters.requests("abort") == 0
    assert {sid: cloudos_conn.session(sid)["status"] for sid in fleet} == before


def test_pauses_every_selected_session_and_nothing_else(cloudos_conn, fleet, log_messages):
    result = pause_op(exclude_names="keep-*").execute(context())
    expected = ids_where(fleet, a=running, b=not_kept)
    assert set(result["paused"]) == expected
    assert result["results"] == dict.fromkeys(result["matched"], "paused")
    assert result["names"][next(iter(expected))].startswith("nightly-")
    assert cloudos_conn.counters.requests("abort") == 210
    for sid, spec in fleet.items():
        status = cloudos_conn.session(sid)["status"]
        if sid in expected:
            assert status in PAUSED_OR_PAUSING
        else:
            assert status == spec["status"], spec
    messages = log_messages()
    assert any("Skipping session" in m and "on the exclude_names list" in m for m in messages)
    assert "220 session(s) listed, 210 selected" in messages
    json.dumps(result)


@pytest.mark.parametrize(
    ("kwargs", "checks"),
    [
        ({"only_owner": True}, {"owner": lambda s: s["owner"] == "me"}),
        ({"name_pattern": "nightly-1*"}, {"name": lambda s: s["name"].startswith("nightly-1")}),
        ({"min_runtime": "3h"}, {"runtime": lambda s: s["running_seconds"] >= 10800}),
        ({"min_cost_usd": "100"}, {"cost": lambda s: s["cost"] >= 100}),
        ({"statuses": "setup"}, {"status": lambda s: s["status"] == "setup"}),
    ],
    ids=["only-owner", "name-pattern", "min-runtime", "min-cost", "other-status"],
)
def test_each_filter_selects_exactly_its_sessions(cloudos_conn, fleet, kwargs, checks):
    result = pause_op(dry_run=True, **kwargs).execute(context())
    status_check = {} if "statuses" in kwargs else {"running": running}
    expected = ids_where(fleet, **status_check, **checks)
    assert expected, "the fleet must hold sessions for every filter"
    assert set(result["matched"]) == expected
    assert cloudos_conn.counters.requests("abort") == 0


@pytest.mark.parametrize(
    ("kwargs", "checks"),
    [
        ({}, {"running": running}),
        ({"statuses": "setup"}, {"status": lambda s: s["status"] == "setup"}),
        (
            {"name_pattern": "nightly-1*"},
            {"running": running, "name": lambda s: s["name"].startswith("nightly-1")},
        ),
    ],
    ids=["running", "other-status", "status-and-name"],
)
def test_a_server_that_ignores_the_list_filters_cannot_make_it_pause_the_wrong_sessions(
    cloudos_conn, fleet, kwargs, checks
):
    """The list answer holds every session of the workspace (paused, terminated, others' setup...):
    the operator checks each one again and pauses exactly what it asked for."""
    cloudos_conn.ignore_list_filters = True
    result = pause_op(**kwargs).execute(context())
    expected = ids_where(fleet, **checks)
    assert expected
    assert set(result["paused"]) == expected
    assert cloudos_conn.counters.requests("abort") == len(expected)
    for sid, spec in fleet.items():
        status = cloudos_conn.session(sid)["status"]
        if sid in expected:
            assert status in PAUSED_OR_PAUSING
        else:
            assert status == spec["status"], spec


def test_excluded_ids_are_left_alone(cloudos_conn, fleet):
    keep = sorted(ids_where(fleet, a=running))[:3]
    result = pause_op(exclude_ids=",".join(keep), name_pattern="*", dry_run=True).execute(context())
    assert set(result["matched"]) == ids_where(fleet, a=running) - set(keep)


def test_a_failed_pause_does_not_stop_the_others_and_fails_the_task_at_the_end(cloudos_conn, fleet):
    cloudos_conn.faults.fail_next("abort", 403, count=2)
    task_context = context()
    with pytest.raises(AirflowException) as error:
        pause_op(exclude_names=["keep-*"]).execute(task_context)
    outcome = task_context["ti"].last(XCOM_PAUSE_RESULTS)
    failed = {sid: r for sid, r in outcome["results"].items() if r.startswith("failed: ")}
    assert len(failed) == 2
    assert len(outcome["paused"]) == 208
    assert cloudos_conn.counters.requests("abort") == 210
    message = str(error.value)
    assert message.startswith("Could not pause 2 of 210 session(s): ")
    for sid in failed:
        assert sid in message
        assert outcome["names"][sid] in message
        assert cloudos_conn.session(sid)["status"] == "ready"
    assert "403" in message


def test_a_pause_that_exhausts_its_retries_is_one_failure(cloudos_conn, monkeypatch):
    original = sync_client.CloudOSClient.__init__

    def fast_retries(self, *args, **kwargs):
        kwargs["retry_policy"] = RetryPolicy(backoff_base=0.001, backoff_max=0.005)
        original(self, *args, **kwargs)

    monkeypatch.setattr(sync_client.CloudOSClient, "__init__", fast_retries)
    sessions = [cloudos_conn.add_session(name=f"s{i}", status="ready")["_id"] for i in range(3)]
    cloudos_conn.faults.fail_next("abort", 500, count=RetryPolicy().max_attempts)
    task_context = context()
    with pytest.raises(AirflowException, match=r"Could not pause 1 of 3 session\(s\)"):
        pause_op().execute(task_context)
    results = list(task_context["ti"].last(XCOM_PAUSE_RESULTS)["results"].values())
    failures = [result for result in results if result.startswith("failed: ")]
    assert len(failures) == 1
    assert "500" in failures[0]
    assert results.count("paused") == 2
    assert sum(cloudos_conn.session(sid)["status"] in PAUSED_OR_PAUSING for sid in sessions) == 2


def test_paused_and_pausing_sessions_count_as_already_paused(cloudos_conn):
    cloudos_conn.set_timings(STILL)
    paused = cloudos_conn.add_session(name="paused", status="aborted")["_id"]
    cloudos_conn.set_timings(StateTimings(aborting=600))
    pausing = cloudos_conn.add_session(name="pausing", status="aborting")["_id"]
    running_id = cloudos_conn.add_session(name="running", status="ready")["_id"]
    result = pause_op(statuses=["running", "paused", "stopping"]).execute(context())
    assert result["results"] == {paused: "already paused", pausing: "already paused", running_id: "paused"}
    assert result["paused"] == [running_id]
    assert cloudos_conn.counters.requests("abort") == 2, "a paused session is not asked again"


def test_wait_for_paused_in_the_worker(cloudos_conn, fleet, log_messages):
    result = pause_op(name_pattern="nightly-0[0-4]*", wait_for_paused=True).execute(context())
    expected = ids_where(fleet, a=running, b=lambda s: s["name"][:10] in {f"nightly-0{d}" for d in "01234"})
    assert set(result["paused"]) == expected
    assert len(expected) == 42
    assert all(cloudos_conn.session(sid)["status"] == "aborted" for sid in expected)
    progress = [m for m in log_messages() if " of 42 sessions paused or terminated after " in m]
    assert progress[-1].endswith("; waiting for 0")


def test_wait_logs_progress_when_the_counts_change_not_per_poll(cloudos_conn, log_messages, monkeypatch):
    """Five sessions settle one by one over 50 polling rounds: exactly five progress lines."""
    from airflow_provider_cloudos.operators import fleet as fleet_module

    cloudos_conn.set_timings(StateTimings(aborting=600))
    ids = [cloudos_conn.add_session(name=f"slow-{i}", status="ready")["_id"] for i in range(5)]
    settle_at = {10 * (i + 1): sid for i, sid in enumerate(ids)}  # round 10, 20, ... 50
    rounds: list[float] = []

    def next_round(seconds: float) -> None:
        """The operator's pause between rounds: no wall time, one more session settles now and then."""
        rounds.append(seconds)
        if len(rounds) in settle_at:
            cloudos_conn.terminate_session(settle_at[len(rounds)])

    monkeypatch.setattr(fleet_module.time, "sleep", next_round)
    pause_op(wait_for_paused=True).execute(context())
    assert len(rounds) == 50
    for i, sid in enumerate(ids):  # polled in every round up to the one that saw it settled
        assert cloudos_conn.counters.requests("get", sid) == 10 * (i + 1) + 1
    progress = [m for m in log_messages() if " of 5 sessions paused or terminated after " in m]
    assert len(progress) == 5, progress
    assert [line.split(" of 5 ")[0] for line in progress] == ["1", "2", "3", "4", "5"]


def test_wait_for_paused_in_the_worker_times_out_naming_the_laggards(cloudos_conn):
    cloudos_conn.set_timings(StateTimings(aborting=600))
    sid = cloudos_conn.add_session(name="slow", status="ready")["_id"]
    with pytest.raises(AirflowException, match=rf"1 of 1 sessions did not become .* {sid} \(stopping\)"):
        pause_op(wait_for_paused=True, timeout=0.2).execute(context())


def test_deferrable_wait_uses_one_batch_trigger(cloudos_conn, fleet):
    task = pause_op(name_pattern="nightly-0[0-4]*", wait_for_paused=True, deferrable=True, poll_interval=0.05)
    task_context = context()
    before = time.time()
    with pytest.raises(TaskDeferred) as deferred:
        task.execute(task_context)
    trigger = deferred.value.trigger
    assert isinstance(trigger, CloudOSFleetTrigger)
    _, kwargs = trigger.serialize()
    pushed = task_context["ti"].last(XCOM_PAUSE_RESULTS)
    assert kwargs["session_ids"] == pushed["matched"]
    assert kwargs["target_statuses"] == ["paused", "terminated"]
    assert kwargs["failure_statuses"] == []
    assert before + 20 <= kwargs["end_time"] <= time.time() + 20
    assert deferred.value.timeout.total_seconds() > 20, "Airflow's timeout is only a safety net"
    event = run_trigger(trigger)
    assert event["status"] == "success"
    assert task.execute_complete(task_context, event) == pushed


@pytest.mark.parametrize(
    ("event", "exception", "text"),
    [
        (
            {"status": "timeout", "message": "2 of 5 sessions did not become paused"},
            AirflowException,
            "2 of 5",
        ),
        ({"status": "failure", "message": "1 of 5 sessions did not become"}, AirflowFailException, "1 of 5"),
        # A connection that cannot be used may work on a retry: not a final failure (as for one session).
        ({"status": "error", "message": "Cannot use connection"}, AirflowException, "Cannot use"),
        ({"status": "bogus"}, AirflowException, "Unexpected event"),
        (None, AirflowException, "Unexpected event"),
    ],
)
def test_execute_complete_turns_bad_events_into_clear_exceptions(event, exception, text):
    with pytest.raises(exception, match=text):
        pause_op().execute_complete(context(), event)


def test_nothing_selected_means_nothing_to_wait_for(cloudos_conn):
    cloudos_conn.add_session(name="paused", status="aborted")
    result = pause_op(wait_for_paused=True, deferrable=True).execute(context())
    assert result == {"dry_run": False, "matched": [], "paused": [], "results": {}, "names": {}}


@pytest.mark.parametrize(
    ("kwargs", "text"),
    [
        ({"statuses": "sleeping"}, "statuses='sleeping'"),
        ({"only_owner": "perhaps"}, "only_owner='perhaps'"),
        ({"min_runtime": "a while"}, "min_runtime='a while'"),
        ({"min_cost_usd": "-5"}, "min_cost_usd='-5'"),
        ({"exclude_ids": ["not-an-id"]}, "exclude_ids='not-an-id'"),
        ({"exclude_names": 42}, "exclude_names=42"),
        ({"dry_run": "sometimes"}, "dry_run='sometimes'"),
        ({"upload_on_close": "maybe"}, "upload_on_close='maybe'"),
        ({"wait_for_paused": "later"}, "wait_for_paused='later'"),
        ({"poll_interval": 0}, "poll_interval=0"),
        ({"timeout": "never"}, "timeout='never'"),
        ({"workspace_id": "nope"}, "workspace_id='nope'"),
    ],
)
def test_bad_pause_inputs_fail_before_any_request(cloudos_conn, kwargs, text):
    pattern = text.replace("(", r"\(").replace("[", r"\[")
    task = pause_op(**dict.fromkeys(kwargs, "{{ params.value }}"))  # templated, then rendered:
    for parameter, value in kwargs.items():
        setattr(task, "is_dry_run" if parameter == "dry_run" else parameter, value)
    with pytest.raises(AirflowFailException, match=pattern):
        task.execute(context())
    with pytest.raises(InvalidLiteralParameter, match=pattern):  # a literal: refused when built
        pause_op(**kwargs)
    assert cloudos_conn.counters.requests() == 0


def test_pause_parameters_are_templated():
    fields = set(CloudOSPauseSessionsOperator.template_fields)
    assert {
        "statuses",
        "name_pattern",
        "min_runtime",
        "min_cost_usd",
        "exclude_names",
        "exclude_ids",
    } <= fields
    assert {"is_dry_run", "wait_for_paused", "poll_interval", "timeout", "workspace_id"} <= fields


# --- the report -------------------------------------------------------------------------------------


def test_report_covers_every_page_and_writes_csv(cloudos_conn, fleet, tmp_path):
    target = tmp_path / "reports" / "nested" / "sessions.csv"
    result = CloudOSSessionReportOperator(task_id="report", csv_path=str(target)).execute(context())
    assert result["count"] == FLEET_SIZE
    assert cloudos_conn.counters.requests("list") == 3
    assert result["by_status"] == {"paused": 10, "running": 220, "setup": 10, "terminated": 10}
    assert result["csv_path"] == str(target)
    rows = result["sessions"]
    assert {row["id"] for row in rows} == set(fleet)
    costs = [row["cost_usd"] for row in rows]
    assert costs == sorted(costs, reverse=True)
    assert rows[0]["name"] == "nightly-249"
    assert rows[0]["owner"]
    assert rows[0]["type"] == "Jupyter"
    assert rows[0]["url"].endswith(f"/view/{rows[0]['id']}")
    with target.open(encoding="utf-8") as handle:
        table = list(csv.DictReader(handle))
    assert len(table) == FLEET_SIZE
    assert table[0]["Name"] == "nightly-249"
    assert table[0]["Cost"] == rows[0]["cost"]
    json.dumps(result)
    assert cloudos_conn.counters.requests("abort") == 0


def test_report_filters_by_status_and_owner(cloudos_conn, fleet):
    result = CloudOSSessionReportOperator(
        task_id="report", statuses="paused,setup", only_owner="true"
    ).execute(context())
    expected = ids_where(
        fleet, s=lambda s: s["status"] in ("aborted", "setup"), o=lambda s: s["owner"] == "me"
    )
    assert {row["id"] for row in result["sessions"]} == expected
    assert result["csv_path"] is None


def test_archived_sessions_are_reported_only_when_asked(cloudos_conn):
    live = cloudos_conn.add_session(name="live", status="ready")["_id"]
    old = cloudos_conn.add_session(name="old", status="aborted", archived=True)["_id"]
    default = CloudOSSessionReportOperator(task_id="report").execute(context())
    assert [row["id"] for row in default["sessions"]] == [live]
    everything = CloudOSSessionReportOperator(task_id="report", include_archived="true").execute(context())
    assert {row["id"] for row in everything["sessions"]} == {live, old}


def test_the_hook_gives_the_same_report(cloudos_conn, fleet):
    rows = CloudOSHook().session_report(statuses=["running"])
    assert len(rows) == 220
    assert {row["status"] for row in rows} == {"running"}


@pytest.mark.parametrize(
    ("kwargs", "text"),
    [
        ({"statuses": "asleep"}, "statuses='asleep'"),
        ({"only_owner": "who"}, "only_owner='who'"),
        ({"include_archived": "maybe"}, "include_archived='maybe'"),
        ({"csv_path": 5}, "csv_path=5"),
        ({"workspace_id": "x"}, "workspace_id='x'"),
    ],
)
def test_bad_report_inputs_fail_before_any_request(cloudos_conn, kwargs, text):
    report = functools.partial(CloudOSSessionReportOperator, task_id="report")
    with pytest.raises(AirflowFailException, match=text):
        rendered(report, **kwargs).execute(context())
    with pytest.raises(InvalidLiteralParameter, match=text):  # a literal: refused when built
        report(**kwargs)
    assert cloudos_conn.counters.requests() == 0


def test_a_directory_is_not_a_csv_path(cloudos_conn, tmp_path):
    report = functools.partial(CloudOSSessionReportOperator, task_id="report")
    with pytest.raises(AirflowFailException, match="is a directory"):
        rendered(report, csv_path=str(tmp_path)).execute(context())
    with pytest.raises(InvalidLiteralParameter, match="is a directory"):
        report(csv_path=str(tmp_path))
    assert cloudos_conn.counters.requests() == 0


# --- the example DAG -----------------------------------------------------------------------------


def test_the_nightly_cleanup_example_parses_without_network():
    path = REPO_ROOT / "example_dags" / "example_cloudos_nightly_cleanup.py"
    spec = importlib.util.spec_from_file_location("example_cloudos_nightly_cleanup", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    dag = module.dag
    assert dag.dag_id == "example_cloudos_nightly_cleanup"
    report, pause = dag.get_task("report"), dag.get_task("pause_running_sessions")
    assert isinstance(report, CloudOSSessionReportOperator)
    assert isinstance(pause, CloudOSPauseSessionsOperator)
    assert pause.upstream_task_ids == {"report"}
    assert pause.exclude_names == "{{ params.allow_list }}"
    assert pause.is_dry_run == "{{ params.dry_run }}"


# --- guards: the hook's blocking wait ----------------------------------------------------------------


@pytest.fixture
def manual(monkeypatch) -> tuple[CloudOSSimulator, ManualClock]:
    """A simulator whose time moves only when told: exact costs and runtimes."""
    clock = ManualClock()
    with CloudOSSimulator(timings=STILL, clock=clock) as sim:
        monkeypatch.setenv("AIRFLOW_CONN_CLOUDOS_DEFAULT", sim.connection_json())
        yield sim, clock


def test_the_hook_wait_raises_when_the_runtime_guard_fires(manual):
    sim, clock = manual
    sid = sim.add_session(name="long", status="ready", running_seconds=7190)["_id"]
    polls: list[float] = []

    def advance(seconds: float) -> None:
        polls.append(seconds)
        clock.advance(5)

    with pytest.raises(CloudOSGuardError) as error:
        CloudOSHook().wait_for_status(
            sid,
            "paused",
            timeout=60,
            poll_interval=1,
            sleep=advance,
            guard=SessionGuard(max_runtime_seconds=7200),
        )
    assert len(polls) == 2, "7190 s, 7195 s, then 7200 s: the third poll fires"
    assert error.value.reason == "runtime 2h reached the limit of 2h"
    assert str(error.value).startswith(
        f"Session {sid} runtime 2h reached the limit of 2h while waiting for paused"
    )


def test_the_hook_wait_without_guard_is_unchanged(manual):
    sim, _ = manual
    sid = sim.add_session(name="dear", status="ready", cost=1000)["_id"]
    assert CloudOSHook().wait_for_status(sid, "running", timeout=5, poll_interval=0.01)["_id"] == sid


# --- guards: the sensor ----------------------------------------------------------------------------


def sensor(session_id: str, **kwargs: Any) -> CloudOSSessionSensor:
    return CloudOSSessionSensor(
        task_id="guard", session_id=session_id, **{"poke_interval": 0.02, "timeout": 20, **kwargs}
    )


def test_sensor_fires_at_the_cost_guard(cloudos_conn):
    sid = cloudos_conn.add_session(name="dear", status="ready", cost=49.5)["_id"]
    task = sensor(sid, max_cost_usd=50)
    assert task.poke({}) is False
    cloudos_conn.set_cost(sid, 50.2)
    done = task.poke({})
    assert isinstance(done, PokeReturnValue)
    assert done.is_done
    assert done.xcom_value["guard_reason"] == "cost $50.20 reached the limit of $50.00"
    assert done.xcom_value["id"] == sid
    assert cloudos_conn.session(sid)["status"] == "ready", "the sensor only tells; a stop task pauses"


def test_sensor_fires_at_the_runtime_guard(manual):
    sim, clock = manual
    sid = sim.add_session(name="long", status="ready", running_seconds=3590)["_id"]
    task = sensor(sid, max_runtime="1h")
    assert task.poke({}) is False
    clock.advance(10)
    done = task.poke({})
    assert isinstance(done, PokeReturnValue)
    assert done.xcom_value["guard_reason"] == "runtime 1h reached the limit of 1h"
    assert done.xcom_value["runtime_seconds"] == 3600


def test_guard_sensor_in_poke_mode_runs_to_the_guard(cloudos_conn):
    sid = cloudos_conn.add_session(name="over", status="ready", cost=75)["_id"]
    result = sensor(sid, max_cost_usd="50", max_runtime="10h").execute({})
    assert result["guard_reason"] == "cost $75.00 reached the limit of $50.00"


def test_guard_sensor_ends_quietly_when_the_session_is_paused_by_someone_else(cloudos_conn):
    sid = cloudos_conn.add_session(name="paused", status="aborted", cost=10)["_id"]
    result = sensor(sid, max_cost_usd=50).execute({})
    assert result["status"] == "paused"
    assert result["guard_reason"] is None


def test_guard_with_an_explicit_target_keeps_that_target(cloudos_conn):
    sid = cloudos_conn.add_session(name="running", status="ready", cost=1)["_id"]
    result = sensor(sid, target_status="running", max_cost_usd=50).execute({})
    assert result["guard_reason"] is None
    assert "guard_reason" not in sensor(sid).execute({}), "without a guard the summary is unchanged"


def test_deferrable_guard_sensor_hands_the_guard_to_the_trigger(cloudos_conn):
    sid = cloudos_conn.add_session(name="watched", status="ready", cost=1)["_id"]
    task = sensor(sid, max_cost_usd=50, max_runtime="2h", deferrable=True, timeout=600)
    with pytest.raises(TaskDeferred) as deferred:
        task.execute({})
    trigger = deferred.value.trigger
    assert isinstance(trigger, CloudOSSessionTrigger)
    _, kwargs = trigger.serialize()
    assert kwargs["max_cost_usd"] == 50.0
    assert kwargs["max_runtime_seconds"] == 7200.0
    assert kwargs["target_statuses"] == ["paused"]
    assert kwargs["stop_on_timeout"] is False, "a sensor never pauses; the DAG's stop task does"
    cloudos_conn.set_cost(sid, 51)
    event = run_trigger(trigger)
    assert event["status"] == "guard"
    result = task.execute_complete({}, event)
    assert result["guard_reason"] == "cost $51.00 reached the limit of $50.00"
    assert result["id"] == sid
    assert cloudos_conn.session(sid)["status"] == "ready"


@pytest.mark.parametrize(
    ("kwargs", "text"),
    [
        ({"max_cost_usd": "0"}, "max_cost_usd='0'"),
        ({"max_cost_usd": "cheap"}, "max_cost_usd='cheap'"),
        ({"max_runtime": "-1h"}, "max_runtime='-1h'"),
    ],
)
def test_bad_sensor_guards_fail_before_any_request(cloudos_conn, kwargs, text):
    with pytest.raises(AirflowFailException, match=text):
        rendered(functools.partial(sensor, "a" * 24), **kwargs).execute({})
    with pytest.raises(InvalidLiteralParameter, match=text):  # written as a literal: refused when built
        sensor("a" * 24, **kwargs)
    assert cloudos_conn.counters.requests() == 0


# --- guards: create and resume -----------------------------------------------------------------------


def test_resume_fails_and_pauses_when_the_guard_fires_while_waiting(cloudos_conn, log_messages):
    cloudos_conn.set_timings(STILL)
    sid = cloudos_conn.add_session(name="spent", status="aborted", cost=60)["_id"]
    task = CloudOSResumeSessionOperator(task_id="resume", session_id=sid, max_cost_usd=50, **FAST)
    with pytest.raises(AirflowFailException) as error:
        task.execute(context())
    assert f"Session {sid} cost $60.00 reached the limit of $50.00 while waiting for running" in str(
        error.value
    )
    assert str(error.value).endswith("the session was paused to stop its costs")
    assert cloudos_conn.session(sid)["status"] in PAUSED_OR_PAUSING


def test_resume_guard_leaves_the_session_running_without_stop_on_kill(cloudos_conn):
    cloudos_conn.set_timings(STILL)
    sid = cloudos_conn.add_session(name="spent", status="aborted", cost=60)["_id"]
    task = CloudOSResumeSessionOperator(
        task_id="resume", session_id=sid, max_cost_usd=50, stop_on_kill=False, **FAST
    )
    with pytest.raises(AirflowFailException, match="reached the limit"):
        task.execute(context())
    assert cloudos_conn.counters.requests("abort") == 0


def test_create_reusing_a_live_session_fails_and_pauses_at_the_runtime_guard(cloudos_conn):
    cloudos_conn.set_timings(STILL)
    sid = cloudos_conn.add_session(name="analysis", status="setup", running_seconds=7200)["_id"]
    task = CloudOSCreateSessionOperator(
        task_id="create", name="analysis", project_name=cloudos_conn.project_name, max_runtime="2h", **FAST
    )
    with pytest.raises(
        AirflowFailException, match=r"runtime 2h reached the limit of 2h while waiting for running"
    ):
        task.execute(context())
    assert cloudos_conn.counters.requests("create") == 0
    assert cloudos_conn.session(sid)["status"] in PAUSED_OR_PAUSING


def test_a_guard_does_not_stop_a_session_that_reached_running(cloudos_conn):
    sid = cloudos_conn.add_session(name="rich", status="aborted", cost=60)["_id"]
    cloudos_conn.set_timings(StateTimings(resume_initialising=0.0))
    task = CloudOSResumeSessionOperator(task_id="resume", session_id=sid, max_cost_usd=50, **FAST)
    assert task.execute(context()) == sid
    assert cloudos_conn.session(sid)["status"] == "ready"


def test_deferrable_resume_passes_the_guard_and_fails_on_its_event(cloudos_conn):
    cloudos_conn.set_timings(STILL)
    sid = cloudos_conn.add_session(name="spent", status="aborted", cost=60)["_id"]
    task = CloudOSResumeSessionOperator(
        task_id="resume", session_id=sid, max_cost_usd="50", max_runtime="8h", deferrable=True, **FAST
    )
    with pytest.raises(TaskDeferred) as deferred:
        task.execute(context())
    _, kwargs = deferred.value.trigger.serialize()
    assert (kwargs["max_cost_usd"], kwargs["max_runtime_seconds"]) == (50.0, 28800.0)
    event = run_trigger(deferred.value.trigger)
    assert event["status"] == "guard"
    assert event["stopped"] is True
    with pytest.raises(AirflowFailException, match=r"limit of \$50\.00.*paused to stop its costs"):
        task.execute_complete(context(), event)
    assert cloudos_conn.session(sid)["status"] in PAUSED_OR_PAUSING


@pytest.mark.parametrize("operator", ["create", "resume"])
@pytest.mark.parametrize(
    ("kwargs", "text"),
    [({"max_cost_usd": "-1"}, "max_cost_usd='-1'"), ({"max_runtime": "0h"}, "max_runtime='0h'")],
)
def test_bad_operator_guards_fail_before_any_request(cloudos_conn, operator, kwargs, text):
    factory: Any = (
        functools.partial(
            CloudOSCreateSessionOperator, task_id="create", name="n", project_name="genomics", **FAST
        )
        if operator == "create"
        else functools.partial(CloudOSResumeSessionOperator, task_id="resume", session_id="a" * 24, **FAST)
    )
    with pytest.raises(AirflowFailException, match=text):
        rendered(factory, **kwargs).execute(context())
    with pytest.raises(InvalidLiteralParameter, match=text):  # written as a literal: refused when built
        factory(**kwargs)
    assert cloudos_conn.counters.requests() == 0


def test_guard_parameters_are_templated():
    for operator in (CloudOSCreateSessionOperator, CloudOSResumeSessionOperator, CloudOSSessionSensor):
        assert {"max_cost_usd", "max_runtime"} <= set(operator.template_fields), operator


# --- the access audit ------------------------------------------------------------------------------


def test_the_report_lists_what_each_session_mounts_and_links_when_asked(cloudos_conn, tmp_path):
    audited = CloudOSCreateSessionOperator(
        task_id="create",
        name="audited",
        project_name="genomics",
        mounts=["genomics/Data/samples.csv", "s3://lifebit-cohorts/2026/variants.vcf.gz"],
        links=["genomics/Data/results/run1"],
        wait_for_running=False,
    ).execute(context())
    bare = cloudos_conn.add_session(name="bare", status="ready")["_id"]
    samples = cloudos_conn.seed.lookup("genomics/Data/samples.csv").id
    target = tmp_path / "audit.csv"

    result = CloudOSSessionReportOperator(
        task_id="report", include_access="true", csv_path=str(target)
    ).execute(context())

    rows = {row["id"]: row for row in result["sessions"]}
    assert rows[audited]["mounts"] == [
        f"samples.csv (file {samples})",
        "s3://lifebit-cohorts/2026/variants.vcf.gz",
    ]
    assert rows[audited]["links"] == ["s3://genomics/Data/results/run1/"]
    assert (rows[bare]["mounts"], rows[bare]["links"]) == ([], [])
    with target.open(encoding="utf-8") as handle:
        table = {row["ID"]: row for row in csv.DictReader(handle)}
    assert table[audited]["Linked folders"] == "s3://genomics/Data/results/run1/"
    json.dumps(result)
    # The list carried the fields: no session was read on its own.
    assert cloudos_conn.counters.requests("get") == 0


def test_without_include_access_the_report_has_no_access_columns(cloudos_conn):
    cloudos_conn.add_session(name="bare", status="ready")
    (row,) = CloudOSSessionReportOperator(task_id="report").execute(context())["sessions"]
    assert "mounts" not in row
    assert "links" not in row


def test_a_session_listed_without_its_access_is_read_on_its_own(cloudos_conn, monkeypatch):
    first = cloudos_conn.add_session(name="first", status="ready")["_id"]
    second = cloudos_conn.add_session(name="second", status="aborted")["_id"]
    hook = CloudOSHook()
    listed = list(hook.iter_sessions())
    stripped = [
        {key: value for key, value in session.items() if key not in ("dataItems", "fuseFileSystems")}
        for session in listed
    ]
    monkeypatch.setattr(hook, "iter_sessions", lambda **_: iter(stripped))
    cloudos_conn.counters.reset()

    rows = hook.session_report(include_access=True)

    assert {row["id"]: (row["mounts"], row["links"]) for row in rows} == {first: ([], []), second: ([], [])}
    assert cloudos_conn.counters.requests("get") == 2
    plain = hook.session_report()
    assert all("mounts" not in row for row in plain)
    assert cloudos_conn.counters.requests("get") == 2  # nothing read without include_access


def test_a_bad_include_access_fails_before_any_request(cloudos_conn):
    with pytest.raises(InvalidLiteralParameter, match="include_access='sometimes'"):  # a literal: at parse
        CloudOSSessionReportOperator(task_id="report", include_access="sometimes")
    report = CloudOSSessionReportOperator(task_id="report", include_access="{{ params.audit }}")
    report.include_access = "sometimes"  # what the template rendered to
    with pytest.raises(AirflowFailException, match="include_access='sometimes'"):
        report.execute(context())
    assert cloudos_conn.counters.requests() == 0
