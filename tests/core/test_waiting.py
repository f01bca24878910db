"""StatusWatch: the one waiting contract of the hook's wait, the trigger and the sensor."""

from __future__ import annotations

import pytest

from airflow_provider_cloudos.core.errors import CloudOSValidationError
from airflow_provider_cloudos.core.status import WaitOutcome
from airflow_provider_cloudos.core.waiting import StatusWatch

SID = "a" * 24


def test_a_new_watch_has_seen_nothing_and_starts_at_the_epoch():
    watch = StatusWatch(SID, frozenset({"running"}))
    assert watch.session_id == SID
    assert watch.targets == {"running"}
    assert watch.failures == {"terminated"}
    assert watch.started_at == 0.0
    assert watch.url is None
    assert watch.last_status is None
    assert watch.last_api_status is None


def test_create_normalises_targets_and_by_default_fails_on_terminated_unless_wanted():
    watch = StatusWatch.create(SID, "ready, aborted", started_at=5.0, url="https://x/s")
    assert watch == StatusWatch(
        SID, frozenset({"running", "paused"}), frozenset({"terminated"}), 5.0, "https://x/s"
    )
    assert StatusWatch.create(SID, ["terminated"]).failures == frozenset()


def test_create_takes_explicit_failures_and_an_empty_list_means_none():
    assert StatusWatch.create(SID, "running", "paused").failures == {"paused"}
    assert StatusWatch.create(SID, "running", ["aborted", "terminated"]).failures == {"paused", "terminated"}
    assert StatusWatch.create(SID, "running", []).failures == frozenset()
    assert StatusWatch.create(SID, "running", "").failures == frozenset()


def test_create_names_the_callers_parameters_in_its_errors():
    with pytest.raises(CloudOSValidationError) as raised:
        StatusWatch.create(SID, "bogus", parameters=("target", "failure_statuses"))
    assert raised.value.parameter == "target"
    with pytest.raises(CloudOSValidationError) as raised:
        StatusWatch.create(SID, "running", "bogus", parameters=("target", "failure_statuses"))
    assert raised.value.parameter == "failure_statuses"
    with pytest.raises(CloudOSValidationError) as raised:
        StatusWatch.create(SID, "bogus")
    assert raised.value.parameter == "target_status"


def test_observe_reports_the_outcome_and_only_real_changes():
    watch = StatusWatch.create(SID, "running")
    assert watch.observe({"status": "scheduled"}) == (WaitOutcome.WAITING, True)
    assert watch.observe({"status": "scheduled"}) == (WaitOutcome.WAITING, False)
    assert (watch.last_status, watch.last_api_status) == ("scheduled", "scheduled")
    assert watch.observe({"status": "initializing"}) == (WaitOutcome.WAITING, True)
    assert watch.last_status == "initialising"
    assert watch.observe({"status": "ready"}) == (WaitOutcome.REACHED, True)
    assert (watch.last_status, watch.last_api_status) == ("running", "ready")


def test_observe_a_failure_status():
    watch = StatusWatch.create(SID, "running")
    assert watch.observe({"status": "terminated"}) == (WaitOutcome.FAILED, True)


def test_observe_without_a_usable_status_is_unknown_and_waits():
    watch = StatusWatch.create(SID, "running")
    assert watch.observe(None) == (WaitOutcome.WAITING, True)
    assert (watch.last_status, watch.last_api_status) == ("unknown", None)
    assert watch.observe({"status": 42}) == (WaitOutcome.WAITING, False)
    assert (watch.last_status, watch.last_api_status) == ("unknown", None)


def test_a_status_handed_over_by_the_deferring_task_is_not_a_change():
    watch = StatusWatch.create(SID, "running")
    watch.last_status = "setup"
    assert watch.observe({"status": "setup"}) == (WaitOutcome.WAITING, False)


@pytest.mark.parametrize(
    ("now", "url", "message"),
    [
        (100.0, None, f"Session {SID} is setup after 0s"),
        (100.9, None, f"Session {SID} is setup after 0s"),
        (101.0, "https://x/s", f"Session {SID} is setup after 1s (https://x/s)"),
        (101.5, None, f"Session {SID} is setup after 1s"),
        (102.0, None, f"Session {SID} is setup after 2s"),
        (290.0, "", f"Session {SID} is setup after 3m 10s"),
    ],
)
def test_change_message_says_what_after_how_long_and_where(now, url, message):
    watch = StatusWatch.create(SID, "running", started_at=100.0, url=url)
    watch.observe({"status": "setup"})
    assert watch.change_message(now) == message


def test_elapsed_counts_from_the_start_and_never_goes_negative():
    watch = StatusWatch.create(SID, "running", started_at=100.0)
    assert watch.elapsed(160.5) == 60.5
    assert watch.elapsed(90.0) == 0.0


def test_describe_targets_lists_them_sorted():
    assert StatusWatch.create(SID, ["running", "paused"]).describe_targets() == "paused or running"
