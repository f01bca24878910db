"""Waiting for many sessions: BatchWatch."""

from __future__ import annotations

from fleet_sessions import session

from airflow_provider_cloudos.core.waiting import BatchWatch

# --- BatchWatch -------------------------------------------------------------------------------


def test_a_batch_settles_each_session_once_and_words_the_outcome():
    ids = ["a" * 24, "b" * 24, "c" * 24]
    watch = BatchWatch(ids, {"paused"}, {"terminated"}, started_at=100.0)
    assert watch.progress() == (0, 0, 3)
    watch.observe(ids[0], session(status="aborted"))
    watch.observe(ids[1], session(status="aborting"))
    watch.refuse(ids[2], "CloudOS refused to report it: 404")
    assert watch.reached == {ids[0]: "paused"}
    assert watch.pending == {ids[1]: "stopping"}
    assert watch.progress_message(165.0) == "1 of 3 sessions paused after 1m 5s, 1 failed; waiting for 1"
    assert watch.timeout_message(100.5) == (
        f"1 of 3 sessions did not become paused within 0s: {ids[1]} (stopping)"
    )
    watch.observe(ids[1], session(status="stopped"))
    assert watch.done
    assert watch.outcome_message() == (
        f"1 of 3 sessions did not become paused: {ids[2]}: CloudOS refused to report it: 404"
    )


def test_a_batch_reports_failure_statuses_and_success():
    watch = BatchWatch(["a" * 24, "b" * 24], {"paused"}, {"terminated"})
    watch.observe("a" * 24, session(status="terminated"))
    assert watch.failed == {"a" * 24: "it is terminated"}
    ok = BatchWatch(["a" * 24], {"paused", "terminated"}, {"terminated"})
    ok.observe("a" * 24, session(status="terminated"))
    assert ok.done
    assert ok.outcome_message() == "All 1 sessions are paused or terminated"
