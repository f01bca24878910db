"""The soak's checks refuse the evidence a broken provider, or a fault that never fired, would leave.

These run in the ordinary suite (no deployment needed): each verdict of ``soak_checks.py`` is fed
what the soak would observe if the behaviour it stands for were broken.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from soak_checks import (
    adoption_seconds,
    check_deadline_seen,
    check_faults_injected,
    check_request_ceiling,
    check_tries_unchanged,
    parse_api_time,
    pss_kib,
    sampled_mib,
)

KILLED_AT = 1000.0
DEADLINE = dict(poll=2.0, threshold=10.0, resume=30.0)


def test_adopted_means_polled_after_the_kill():
    assert adoption_seconds(KILLED_AT, {"a": [990.0, 1007.3], "b": [1008.0, 1010.0]}) == {"a": 7.3, "b": 8.0}


def test_a_session_polled_only_before_the_kill_was_not_adopted():
    with pytest.raises(AssertionError, match=r"not adopted\): \['b'\]"):
        adoption_seconds(KILLED_AT, {"a": [1007.0], "b": [995.0, 999.9]})


def test_a_wait_paused_within_a_poll_and_the_threshold_of_its_deadline_passes():
    assert check_deadline_seen(KILLED_AT, [1006.0], 1015.0, **DEADLINE) == (6.0, 15.0)


@pytest.mark.parametrize(
    ("pauses", "task_end", "message"),
    [
        ([], 1015.0, "never paused"),
        ([998.5], 1015.0, "before its deadline"),
        ([1013.0], 1020.0, "after its deadline \\(limit 12s\\)"),
        ([1006.0], None, "no end date"),
        ([1006.0], 1040.0, "after its pause \\(limit 30s\\)"),
    ],
)
def test_a_wait_that_ends_late_or_early_or_never_fails(pauses, task_end, message):
    with pytest.raises(AssertionError, match=message):
        check_deadline_seen(KILLED_AT, pauses, task_end, **DEADLINE)


def test_a_retried_adopted_wait_fails():
    check_tries_unchanged({"run-1 create": 1}, {"run-1 create": 1})
    with pytest.raises(AssertionError, match="run-1 create"):
        check_tries_unchanged({"run-1 create": 1}, {"run-1 create": 2})


def test_a_fault_that_never_fired_fails():
    check_faults_injected({"503": 3, "429": 1, "dropped": 2, "held creates": 2})
    with pytest.raises(AssertionError, match=r"\['dropped'\]"):
        check_faults_injected({"503": 3, "429": 1, "dropped": 0, "held creates": 2})


def test_requests_over_the_ceiling_fail():
    check_request_ceiling({"get": 800, "create": 12}, 10, {"get": 80, "create": 1.5})
    with pytest.raises(AssertionError, match=r"'get': 81\.0"):
        check_request_ceiling({"get": 810, "create": 12}, 10, {"get": 80, "create": 1.5})


def test_api_times_are_epoch_seconds():
    assert parse_api_time("1970-01-01T00:01:40+00:00") == 100.0
    assert parse_api_time("1970-01-01T00:01:40Z") == 100.0
    assert parse_api_time(None) is None


def test_memory_is_this_process_pss_from_several_samples():
    readings = iter([2048, 4096, 3072])
    assert sampled_mib(lambda: next(readings), 3, 0) == {"median": 3.0, "min": 2.0, "max": 4.0}
    status = Path("/proc/self/status").read_text().splitlines()
    rss = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
    assert 0 < pss_kib([os.getpid()]) < rss  # shared pages (libc...) count in part: PSS, not RSS
    with pytest.raises(AssertionError, match="no memory read"):
        sampled_mib(lambda: pss_kib([2**22 + 1]), 2, 0)
