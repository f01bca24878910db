"""What a fleet pause writes to its task log: the selection, each session skipped, paused or not,
and the dry run's list.

The log is the only record a DAG author reads of why a session was (or was not) paused at 8 pm
and what it had cost: each line must name the session with its status, cost and runtime, and say
what happened to it. The simulator's clock stands still, so costs and runtimes are exact.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowException
from operator_helpers import FakeTI

from airflow_provider_cloudos.operators.fleet import CloudOSPauseSessionsOperator
from airflow_provider_cloudos.testing import CloudOSSimulator, ManualClock, StateTimings

#: Nothing changes state on its own: a pausing session stays pausing.
FROZEN = StateTimings(scheduled=600, setup=600, initialising=600, aborting=600, resume_initialising=600)


@pytest.fixture
def still_fleet(monkeypatch: pytest.MonkeyPatch) -> Iterator[CloudOSSimulator]:
    """The default connection on a simulator whose clock never moves: costs and runtimes hold."""
    with CloudOSSimulator(timings=FROZEN, clock=ManualClock()) as sim:
        monkeypatch.setenv("AIRFLOW_CONN_CLOUDOS_DEFAULT", sim.connection_json())
        yield sim


def pause_task(**kwargs: Any) -> CloudOSPauseSessionsOperator:
    return CloudOSPauseSessionsOperator(task_id="pause", poll_interval=0.02, timeout=20, **kwargs)


def logged(log_messages: Callable[[], list[str]], line: str) -> bool:
    """Whether the task logged exactly ``line`` (one message, whatever else was logged around it)."""
    return line in log_messages()


def test_the_selection_is_logged_in_words(
    still_fleet: CloudOSSimulator, log_messages: Callable[[], list[str]]
) -> None:
    pause_task(name_pattern="r*", dry_run=True).execute({"ti": FakeTI()})
    assert logged(log_messages, "Selecting running sessions, named like 'r*'"), log_messages()


def test_a_skipped_candidate_is_named_with_its_cost_runtime_and_reason(
    still_fleet: CloudOSSimulator, log_messages: Callable[[], list[str]]
) -> None:
    keep = still_fleet.add_session(name="keep-me", status="ready", cost=1.25, running_seconds=61)["_id"]
    pause_task(exclude_names=["keep-*"], dry_run=True).execute({"ti": FakeTI()})
    expected = (
        f"Skipping session {keep} 'keep-me' (running, $1.25, 1m 1s): "
        "name 'keep-me' matches 'keep-*' on the exclude_names list"
    )
    assert logged(log_messages, expected), log_messages()


def test_a_dry_run_names_each_session_it_would_pause_and_counts_them(
    still_fleet: CloudOSSimulator, log_messages: Callable[[], list[str]]
) -> None:
    first = still_fleet.add_session(name="alpha", status="ready", cost=2.5, running_seconds=3725)["_id"]
    second = still_fleet.add_session(name="beta", status="ready", cost=0.75, running_seconds=59)["_id"]
    outcome = pause_task(dry_run=True).execute({"ti": FakeTI()})
    assert logged(log_messages, f"Dry run: would pause session {first} 'alpha' (running, $2.50, 1h 2m 5s)")
    assert logged(log_messages, f"Dry run: would pause session {second} 'beta' (running, $0.75, 59s)")
    assert logged(log_messages, "Dry run: 2 session(s) would be paused; nothing was changed")
    assert outcome["names"] == {first: "alpha", second: "beta"}
    assert still_fleet.abort_requests == []


def test_each_pause_asked_for_is_logged_with_what_the_session_had_cost(
    still_fleet: CloudOSSimulator, log_messages: Callable[[], list[str]]
) -> None:
    sid = still_fleet.add_session(name="nightly", status="ready", cost=12.0, running_seconds=7200)["_id"]
    pause_task().execute({"ti": FakeTI()})
    assert logged(log_messages, f"Pausing session {sid} 'nightly' (running, $12.00, 2h)"), log_messages()


def test_a_session_already_pausing_is_logged_as_such_not_as_paused_now(
    still_fleet: CloudOSSimulator, log_messages: Callable[[], list[str]]
) -> None:
    sid = still_fleet.add_session(name="going", status="aborting", cost=3.0, running_seconds=600)["_id"]
    outcome = pause_task(statuses=["running", "stopping"]).execute({"ti": FakeTI()})
    assert outcome["results"] == {sid: "already paused"}
    assert logged(log_messages, f"Already pausing: session {sid} 'going' (stopping, $3.00, 10m)")
    assert not any(f"Pausing session {sid}" in message for message in log_messages())


def test_a_refused_pause_is_logged_as_an_error_naming_the_session_and_the_refusal(
    still_fleet: CloudOSSimulator, log_messages: Callable[[], list[str]]
) -> None:
    sid = still_fleet.add_session(name="locked", status="ready", cost=4.0, running_seconds=90)["_id"]
    still_fleet.faults.fail_next("abort", 403)
    ti = FakeTI()
    with pytest.raises(AirflowException):
        pause_task().execute({"ti": ti})
    why = ti.last("pause_results")["results"][sid].removeprefix("failed: ")
    assert "403" in why
    expected = f"Could not pause session {sid} 'locked' (running, $4.00, 1m 30s): {why}"
    assert logged(log_messages, expected), log_messages()
