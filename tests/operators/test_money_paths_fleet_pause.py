"""What a fleet pause sends, and when it waits: the choices that decide whether data is saved and
whether the task holds on until the spending stops."""

from __future__ import annotations

import pytest
from operator_helpers import FakeTI, pause_task, still_fleet

from airflow_provider_cloudos.testing import CloudOSSimulator


@pytest.fixture
def fleet(cloudos_conn: CloudOSSimulator) -> CloudOSSimulator:
    return still_fleet(cloudos_conn)


def running(sim: CloudOSSimulator, count: int) -> list[str]:
    return [sim.add_session(name=f"r{i}", status="ready")["_id"] for i in range(count)]


@pytest.mark.parametrize(
    ("kwargs", "sent"),
    [({}, (True, False)), ({"upload_on_close": False, "force": True}, (False, True))],
    ids=["defaults-save-the-data", "told-not-to-save-and-to-force"],
)
def test_each_pause_carries_the_save_and_force_choices(fleet, kwargs, sent):
    ids = running(fleet, 2)
    pause_task(wait_for_paused=False, **kwargs).execute({"ti": FakeTI()})
    assert sorted(fleet.abort_requests) == sorted((sid, *sent) for sid in ids)


def test_without_wait_for_paused_the_task_returns_once_the_pauses_are_asked_for(fleet):
    ids = running(fleet, 2)
    gets_before = fleet.counters.requests("get")
    outcome = pause_task(wait_for_paused=False, deferrable=True).execute({"ti": FakeTI()})
    assert sorted(outcome["paused"]) == sorted(ids)
    assert fleet.counters.requests("get") == gets_before, "no wait, so no polls"


def test_a_listed_entry_without_an_id_is_passed_over_and_the_rest_are_paused(fleet):
    ids = running(fleet, 2)
    task = pause_task(wait_for_paused=False)
    listed = list(task.hook.iter_sessions(statuses=["ready"], only_owner=False, page_size=100))
    task.hook.iter_sessions = lambda **_: iter([{"name": "no-id", "status": "ready"}, *listed])
    task.execute({"ti": FakeTI()})
    assert sorted(sid for sid, _, _ in fleet.abort_requests) == sorted(ids)


def test_the_sessions_are_listed_a_hundred_to_a_page(fleet):
    running(fleet, 150)
    fleet.counters.reset()
    pause_task(dry_run=True).execute({"ti": FakeTI()})
    assert fleet.counters.requests("list") == 2


def test_the_summary_line_counts_what_was_paused_and_what_already_was(fleet, log_messages):
    running(fleet, 2)
    fleet.add_session(name="p", status="aborted")
    pause_task(statuses=["running", "paused"], wait_for_paused=False).execute({"ti": FakeTI()})
    assert "Paused 2 session(s), 1 already paused, 0 failed" in log_messages()
