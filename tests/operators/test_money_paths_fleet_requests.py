"""What a fleet pause asks CloudOS for, and how it fails: the choices that decide whether each
session's data is saved, and errors that name every session left running and why.

A pause that silently drops ``uploadOnClose`` loses a day's work; one that forces by default
skips the save; a failure message that runs the sessions together, or a listing error that loses
CloudOS's reason, leaves the on-call engineer guessing which sessions still cost money.
"""

from __future__ import annotations

import pytest
from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException
from operator_helpers import FakeTI, pause_task, still_fleet

from airflow_provider_cloudos.testing import CloudOSSimulator


@pytest.fixture
def fleet(cloudos_conn: CloudOSSimulator) -> CloudOSSimulator:
    return still_fleet(cloudos_conn)


def test_by_default_each_pause_saves_the_data_and_does_not_force(fleet: CloudOSSimulator) -> None:
    sid = fleet.add_session(name="work", status="ready")["_id"]
    pause_task().execute({"ti": FakeTI()})
    assert fleet.abort_requests == [(sid, True, False)]


def test_a_forced_pause_is_sent_as_forced(fleet: CloudOSSimulator) -> None:
    sid = fleet.add_session(name="stuck", status="ready")["_id"]
    pause_task(force=True).execute({"ti": FakeTI()})
    assert fleet.abort_requests == [(sid, True, True)]


def test_a_session_listed_without_a_name_is_named_by_an_empty_string(fleet: CloudOSSimulator) -> None:
    sid = fleet.add_session(name="unnamed", status="ready")["_id"]
    task = pause_task(dry_run=True)
    listed = [
        {key: value for key, value in session.items() if key != "name"}
        for session in task.hook.iter_sessions(statuses=["running"], only_owner=False, page_size=100)
    ]
    task.hook.iter_sessions = lambda **_: iter(listed)  # type: ignore[method-assign]
    outcome = task.execute({"ti": FakeTI()})
    assert outcome["names"] == {sid: ""}
    assert outcome["results"] == {sid: "would pause"}


def test_the_failure_lists_each_refused_session_with_its_name_and_reason(fleet: CloudOSSimulator) -> None:
    ids = [fleet.add_session(name=f"s{i}", status="ready")["_id"] for i in range(3)]
    fleet.faults.fail_next("abort", 403, count=2)
    ti = FakeTI()
    with pytest.raises(AirflowException) as raised:
        pause_task().execute({"ti": ti})
    outcome = ti.last("pause_results")
    failed = {sid: result for sid, result in outcome["results"].items() if result != "paused"}
    assert len(failed) == 2
    assert set(outcome["results"]) == set(ids)
    listed = "; ".join(
        f"{sid} ({outcome['names'][sid]}): {result.removeprefix('failed: ')}"
        for sid, result in failed.items()
    )
    assert str(raised.value) == f"Could not pause 2 of 3 session(s): {listed}"


def test_a_refused_listing_fails_the_task_for_good_with_cloudos_reason(fleet: CloudOSSimulator) -> None:
    fleet.add_session(name="work", status="ready")
    fleet.faults.fail_next("list", 403)
    with pytest.raises(AirflowFailException) as raised:
        pause_task().execute({"ti": FakeTI()})
    message = str(raised.value)
    assert "403 Forbidden" in message, message
    assert "GET /api/v3/interactive-sessions" in message
    assert fleet.abort_requests == []
