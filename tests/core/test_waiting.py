"""StatusWatch and session_wait, the one single-session wait of the hook, the trigger and the sensor;
BatchWatch and batch_wait, the same for many sessions (the fleet operator and the batch trigger)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from fleet_sessions import session

from airflow_provider_cloudos.core.errors import (
    CloudOSError,
    CloudOSNotFoundError,
    CloudOSTransientError,
    CloudOSValidationError,
)
from airflow_provider_cloudos.core.status import WaitOutcome
from airflow_provider_cloudos.core.waiting import (
    BatchWatch,
    SessionGuard,
    StatusWatch,
    WaitEnd,
    WaitResult,
    batch_wait,
    run_async,
    run_blocking,
    session_wait,
)

SID = "a" * 24


@pytest.mark.parametrize(
    ("status", "targets", "expected"),
    [
        ("ready", {"running"}, WaitOutcome.REACHED),
        ("initializing", {"running"}, WaitOutcome.WAITING),
        ("initialising", {"running"}, WaitOutcome.WAITING),
        ("terminated", {"running"}, WaitOutcome.FAILED),
        ("aborted", {"paused"}, WaitOutcome.REACHED),
        ("stopped", {"paused"}, WaitOutcome.REACHED),
        ("aborting", {"paused"}, WaitOutcome.WAITING),
        ("terminated", {"terminated"}, WaitOutcome.REACHED),
        ("aborted", {"ready"}, WaitOutcome.WAITING),
    ],
)
def test_observe_is_the_one_waiting_contract(status, targets, expected):
    assert StatusWatch(SID, frozenset(targets)).observe({"status": status})[0] is expected


def test_observe_with_extra_failure_statuses():
    watch = StatusWatch(SID, frozenset({"running"}), frozenset({"terminated", "paused"}))
    assert watch.observe({"status": "aborted"})[0] is WaitOutcome.FAILED


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


# --- the words of every ending, one place ---------------------------------------------------------


def watched(status: str, url: str | None = "https://x/s") -> StatusWatch:
    watch = StatusWatch.create(SID, "running", url=url)
    watch.observe({"status": status})
    return watch


def test_each_ending_is_worded_once_with_the_session_and_its_page():
    assert watched("ready").reached_message() == f"Session {SID} is running (https://x/s)"
    assert watched("ready").already_there_message() == (
        f"Session {SID} is already running; nothing to wait for (https://x/s)"
    )
    assert watched("terminated").failed_message() == (
        f"Session {SID} is terminated while waiting for running (https://x/s)"
    )
    assert watched("setup").guard_message("cost $5.00 reached the limit of $5.00") == (
        f"Session {SID} cost $5.00 reached the limit of $5.00 while waiting for running (https://x/s)"
    )
    assert watched("setup").timeout_message(3725) == (
        f"Session {SID} did not become running within 1h 2m 5s; last status: setup (https://x/s)"
    )
    assert watched("setup", url=None).failed_message() == f"Session {SID} is setup while waiting for running"


def test_a_timeout_reads_at_least_one_second_and_an_unseen_status_as_unknown():
    assert StatusWatch.create(SID, "paused").timeout_message(0.2) == (
        f"Session {SID} did not become paused within 1s; last status: unknown"
    )


def test_an_unanswered_wait_and_a_refusal_say_whose_fault_it_was():
    watch = watched("setup")
    assert watch.unanswered_message(61, "503 Service Unavailable") == (
        f"CloudOS kept failing until the deadline while waiting for session {SID} (1m 1s): "
        "503 Service Unavailable"
    )
    assert watch.refused_message(CloudOSNotFoundError("no such session")) == (
        f"CloudOS refused to report session {SID}: no such session"
    )


# --- the batch wait: one loop for the worker and the trigger -----------------------------------------

A, B = "a" * 24, "b" * 24


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_batch_settles_each_session_once_and_words_the_outcome():
    ids = [A, B, "c" * 24]
    watch = BatchWatch(ids, {"paused"}, {"terminated"}, started_at=100.0)
    assert watch.progress() == (0, 0, 3)
    watch.observe(ids[0], {"status": "aborted"})
    watch.observe(ids[1], {"status": "aborting"})
    watch.refuse(ids[2], "CloudOS refused to report it: 404")
    assert watch.reached == {ids[0]: "paused"}
    assert watch.pending == {ids[1]: "stopping"}
    assert watch.progress_message(165.0) == "1 of 3 sessions paused after 1m 5s, 1 failed; waiting for 1"
    assert watch.timeout_message(100.5) == (
        f"1 of 3 sessions did not become paused within 0s: {ids[1]} (stopping)"
    )
    watch.observe(ids[1], {"status": "stopped"})
    assert not watch.pending
    assert watch.outcome_message() == (
        f"1 of 3 sessions did not become paused: {ids[2]}: CloudOS refused to report it: 404"
    )


def test_a_batch_reports_failure_statuses_and_success():
    watch = BatchWatch(["a" * 24, "b" * 24], {"paused"}, {"terminated"})
    watch.observe("a" * 24, {"status": "terminated"})
    assert watch.failed == {"a" * 24: "it is terminated"}
    ok = BatchWatch(["a" * 24], {"paused", "terminated"}, {"terminated"})
    ok.observe("a" * 24, {"status": "terminated"})
    assert not ok.pending
    assert ok.outcome_message() == "All 1 sessions are paused or terminated"


def test_a_transient_error_keeps_the_session_pending_and_any_other_settles_it():
    watch = BatchWatch([A, B], {"paused"})
    assert watch.unread(A, CloudOSTransientError("no answer")) is True
    assert watch.last_error == "no answer"
    assert A in watch.pending
    assert watch.unread(B, CloudOSNotFoundError("gone")) is False
    assert watch.failed == {B: "CloudOS refused to report it: gone"}


def test_the_loop_polls_the_pending_sessions_each_round_and_logs_only_progress():
    clock, logged, rounds = Clock(), [], []
    watch = BatchWatch([A, B], {"paused"}, started_at=clock.now)
    answers = {A: ["aborting", "aborted"], B: ["aborting", "aborting", "aborted"]}

    def poll_round(ids: list[str]) -> None:
        rounds.append(ids)
        for sid in ids:
            watch.observe(sid, {"status": answers[sid].pop(0)})

    def sleep(seconds: float) -> None:
        clock.now += seconds

    loop = batch_wait(
        watch, poll_interval=10, end_time=clock.now + 60, clock=clock, log=logged.append, wait_first=False
    )
    result = run_blocking(loop, poll_round, sleep)
    assert result == WaitResult(WaitEnd.REACHED, "All 2 sessions are paused")
    assert rounds == [[A, B], [A, B], [B]]
    assert logged == [
        "1 of 2 sessions paused after 10s; waiting for 1",
        "2 of 2 sessions paused after 20s; waiting for 0",
    ]


def test_the_loop_ends_at_its_deadline_naming_the_laggards_and_the_last_error():
    clock = Clock()
    watch = BatchWatch([A], {"paused"}, started_at=clock.now)
    slept: list[float] = []

    def poll_round(ids: list[str]) -> None:
        clock.now += 4  # a slow round eats into the pause
        watch.unread(A, CloudOSTransientError("503"))

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.now += seconds

    loop = batch_wait(
        watch, poll_interval=10, end_time=clock.now + 25, clock=clock, log=print, wait_first=True
    )
    result = run_blocking(loop, poll_round, sleep)
    assert result.end is WaitEnd.TIMED_OUT
    assert (
        result.message == f"1 of 1 sessions did not become paused within 29s: {A} (unknown); last error: 503"
    )
    assert slept == [10, 6, 1], "a first pause, then rounds every 10 s, the last cut at the deadline"


def test_the_async_runner_runs_the_same_loop():
    clock = Clock()
    watch = BatchWatch([A, B], {"paused"}, {"terminated"}, started_at=clock.now)

    async def poll_round(ids: list[str]) -> None:
        for sid in ids:
            watch.observe(sid, {"status": "aborted" if sid == A else "terminated"})

    async def sleep(seconds: float) -> None:
        clock.now += seconds

    loop = batch_wait(
        watch, poll_interval=5, end_time=clock.now + 60, clock=clock, log=print, wait_first=True
    )
    result = asyncio.run(run_async(loop, poll_round, sleep))
    assert result.end is WaitEnd.FAILED
    assert result.end.value == "failure", "the value is the trigger event's status"
    assert result.message == f"1 of 2 sessions did not become paused: {B}: it is terminated"


def test_the_endings_of_a_batch_list_every_session_concerned_in_order():
    watch = BatchWatch([B, A, "c" * 24], {"paused"}, {"terminated"}, started_at=0.0)
    watch.observe("c" * 24, {"status": "aborting"})
    assert watch.timeout_message(90.0) == (
        f"3 of 3 sessions did not become paused within 1m 30s: {A} (unknown), {B} (unknown), "
        f"{'c' * 24} (stopping)"
    )
    watch.observe(B, {"status": "terminated"})
    watch.refuse(A, "CloudOS refused to report it: 404")
    watch.observe("c" * 24, {"status": "aborted"})
    assert watch.outcome_message() == (
        f"2 of 3 sessions did not become paused: {A}: CloudOS refused to report it: 404; "
        f"{B}: it is terminated"
    )


def test_a_watch_fails_on_the_failures_it_was_given_and_only_those():
    watch = StatusWatch.create(SID, "running", "paused")
    assert watch.observe({"status": "aborted"}) == (WaitOutcome.FAILED, True)
    patient = StatusWatch.create(SID, "running", [])
    assert patient.observe({"status": "terminated"}) == (WaitOutcome.WAITING, True)


def test_watches_made_without_a_start_count_from_the_epoch():
    assert StatusWatch.create(SID, "running").started_at == 0.0
    batch = BatchWatch([A], {"paused"})
    assert batch.started_at == 0.0
    assert batch.progress_message(65.0) == "0 of 1 sessions paused after 1m 5s; waiting for 1"


def _never_settling_loop(clock: Clock, *, poll_interval: float, deadline_in: float, round_takes: float = 0.0):
    """A batch wait whose one session never settles: what it sleeps, and how many rounds it polls."""
    watch = BatchWatch([A], {"paused"}, started_at=clock.now)
    slept: list[float] = []
    rounds: list[float] = []

    def poll_round(ids: list[str]) -> None:
        rounds.append(clock.now)
        assert len(rounds) <= 10, "the loop polls on past its deadline"
        clock.now += round_takes
        watch.observe(A, {"status": "aborting"})

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.now += seconds

    loop = batch_wait(
        watch,
        poll_interval=poll_interval,
        end_time=clock.now + deadline_in,
        clock=clock,
        log=lambda _: None,
        wait_first=True,
    )
    return run_blocking(loop, poll_round, sleep), slept, rounds


def test_the_first_pause_of_a_batch_wait_is_cut_at_a_near_deadline():
    clock = Clock()
    result, slept, rounds = _never_settling_loop(clock, poll_interval=10, deadline_in=3)
    assert result.end is WaitEnd.TIMED_OUT
    assert slept == [3]
    assert rounds == [1003.0]


def test_a_batch_wait_that_reaches_its_deadline_exactly_ends_there():
    clock = Clock()
    result, slept, rounds = _never_settling_loop(clock, poll_interval=10, deadline_in=20)
    assert result.end is WaitEnd.TIMED_OUT
    assert slept == [10, 10]
    assert rounds == [1010.0, 1020.0]


def test_a_round_slower_than_the_poll_interval_is_followed_by_the_next_at_once():
    clock = Clock()
    result, slept, _ = _never_settling_loop(clock, poll_interval=10, deadline_in=40, round_takes=12)
    assert result.end is WaitEnd.TIMED_OUT
    assert slept == [10, 0.0, 0.0]


# -- session_wait: the one single-session loop --------------------------------------------------


class Log:
    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []

    def info(self, msg: str) -> None:
        self.lines.append(("info", msg))

    def warning(self, msg: str) -> None:
        self.lines.append(("warning", msg))


def _single_wait(
    looks: list[dict | CloudOSError],
    *,
    deadline_in: float = 60,
    guard: SessionGuard | None = None,
    wait_first: bool = False,
    look_takes: float = 0.0,
    in_step: bool = False,
    start: float | None = None,
) -> tuple[WaitResult, list[float], list[float], Log]:
    """session_wait over these looks (each read takes ``look_takes``): result, sleeps, look times, log."""
    clock, log = Clock(), Log()
    if start is not None:
        clock.now = start
    watch = StatusWatch.create(SID, "running", started_at=clock.now, url="https://c.example/s", guard=guard)
    slept: list[float] = []
    looked: list[float] = []

    def look(session_id: str) -> dict | CloudOSError:
        assert session_id == SID
        looked.append(clock.now)
        clock.now += look_takes
        return looks.pop(0)

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.now += seconds

    loop = session_wait(
        watch, 10, clock.now + deadline_in, clock=clock, log=log, wait_first=wait_first, in_step=in_step
    )
    return run_blocking(loop, look, sleep), slept, looked, log


def test_waits_in_step_look_on_the_multiples_of_their_interval_however_apart_they_started():
    stuck, ready = {"status": "setup"}, {"status": "ready"}
    looked_at = [
        _single_wait([stuck, stuck, ready], wait_first=True, in_step=True, start=start, look_takes=0.4)[2]
        for start in (1003.0, 1007.5)
    ]
    # The first look on the first multiple of 10 s at least one interval after the start, then on each.
    assert looked_at == [[1020.0, 1030.0, 1040.0], [1020.0, 1030.0, 1040.0]]
    not_in_step = _single_wait([stuck, ready], wait_first=True, start=1007.5, look_takes=0.4)[2]
    assert not_in_step == [1017.5, 1027.9]


def test_a_single_wait_logs_each_change_once_goes_on_through_no_answer_and_ends_at_the_target():
    ready = {"_id": SID, "status": "ready"}
    looks = [{"status": "provisioning"}, CloudOSTransientError("503"), {"status": "provisioning"}, ready]
    result, slept, looked, log = _single_wait(looks)
    assert result == WaitResult(WaitEnd.REACHED, f"Session {SID} is running (https://c.example/s)", ready)
    assert slept == [10, 10, 10]
    assert looked == [1000, 1010, 1020, 1030]
    assert log.lines == [
        ("info", f"Session {SID} is provisioning after 0s (https://c.example/s)"),
        ("warning", "CloudOS did not answer; the wait goes on: 503"),
        ("info", f"Session {SID} is running after 30s (https://c.example/s)"),
    ]


@pytest.mark.parametrize(
    ("look", "end", "message"),
    [
        ({"status": "terminated"}, WaitEnd.FAILED, f"Session {SID} is terminated while waiting for running"),
        (
            CloudOSNotFoundError("404 gone"),
            WaitEnd.FAILED,
            f"CloudOS refused to report session {SID}: 404 gone",
        ),
    ],
)
def test_a_failure_status_or_a_refusal_ends_the_single_wait_at_once(look, end, message):
    result, slept, _, _ = _single_wait([look])
    assert (result.end, slept) == (end, [])
    assert result.message.startswith(message)
    assert result.session == (look if isinstance(look, dict) else None)


def test_a_guard_ends_the_single_wait_with_its_reason_and_the_session():
    costly = {"status": "provisioning", "totalCostInUsd": 7.5}
    result, _, _, _ = _single_wait([costly], guard=SessionGuard(max_cost_usd=5))
    assert result.end is WaitEnd.GUARD
    assert result.reason == "cost $7.50 reached the limit of $5.00"
    assert result.message.startswith(f"Session {SID} cost $7.50 reached the limit of $5.00 while waiting")
    assert result.session == costly


def test_the_single_wait_ends_at_its_deadline_timed_out_or_unanswered_after_the_last_look():
    stuck = {"status": "provisioning"}
    timed_out, slept, looked, _ = _single_wait([stuck] * 5, deadline_in=25, look_takes=1)
    assert timed_out.end is WaitEnd.TIMED_OUT
    assert timed_out.message.startswith(
        f"Session {SID} did not become running within 26s; last status: provisioning"
    )
    assert slept == [10, 10, 2], "each pause follows a look, the last cut at the deadline"
    assert looked == [1000, 1011, 1022, 1025]
    unanswered, _, _, _ = _single_wait([stuck, CloudOSTransientError("503")], deadline_in=10)
    assert unanswered == WaitResult(
        WaitEnd.UNANSWERED,
        f"CloudOS kept failing until the deadline while waiting for session {SID} (10s): 503",
    )
    assert unanswered.end.value == "error", "the value is the trigger event's status"
    answered_last, _, _, _ = _single_wait([CloudOSTransientError("503"), stuck], deadline_in=10)
    assert answered_last.end is WaitEnd.TIMED_OUT


def test_a_single_wait_may_pause_first_and_takes_one_look_once_its_deadline_passed():
    stuck = {"status": "provisioning"}
    first, slept, looked, _ = _single_wait([stuck], wait_first=True, deadline_in=4)
    assert (first.end, slept, looked) == (WaitEnd.TIMED_OUT, [4], [1004])
    past, slept, looked, _ = _single_wait([stuck], deadline_in=-5)
    assert (past.end, slept, looked) == (WaitEnd.TIMED_OUT, [], [1000])


def test_the_async_runner_runs_the_single_wait_too():
    clock, log = Clock(), Log()
    watch = StatusWatch.create(SID, "paused", started_at=clock.now)
    looks = [{"status": "aborting"}, {"status": "aborted"}]

    async def look(session_id: str) -> dict:
        return looks.pop(0)

    async def sleep(seconds: float) -> None:
        clock.now += seconds

    loop = session_wait(watch, 5, clock.now + 60, clock=clock, log=log)
    result = asyncio.run(run_async(loop, look, sleep))
    assert (result.end, result.session) == (WaitEnd.REACHED, {"status": "aborted"})
    assert log.lines[-1] == ("info", f"Session {SID} is paused after 5s")


# --- cost and runtime guards on a watched session: SessionGuard -----------------------------------


def test_the_guard_fires_at_the_cost_limit_and_says_why():
    guard = SessionGuard(max_cost_usd=50)
    assert guard.check(session(cost=49.99)) is None
    assert guard.check(session(cost=50.0)) == "cost $50.00 reached the limit of $50.00"
    assert guard.check(session(cost=50.2)) == "cost $50.20 reached the limit of $50.00"


def test_the_guard_fires_at_the_runtime_limit_and_says_why():
    guard = SessionGuard(max_runtime_seconds=7200)
    assert guard.check(session(runtime=7199)) is None
    assert guard.check(session(runtime=7205)) == "runtime 2h 5s reached the limit of 2h"


def test_both_limits_reached_are_both_reported():
    guard = SessionGuard.from_params(max_cost_usd="10", max_runtime="1h")
    assert guard.check(session(cost=11, runtime=3600)) == (
        "cost $11.00 reached the limit of $10.00 and runtime 1h reached the limit of 1h"
    )


def test_an_inactive_guard_never_fires_and_partial_objects_never_crash():
    assert SessionGuard().active is False
    assert SessionGuard().check(session(cost=1e9, runtime=1e9)) is None
    guard = SessionGuard(max_cost_usd=1, max_runtime_seconds=1)
    assert guard.check({}) is None
    assert guard.check({"totalCostInUsd": "lots", "totalRunningTimeInSeconds": None}) is None


def test_from_params_reads_rendered_values_and_unset_ones():
    assert SessionGuard.from_params(max_cost_usd=" 50 ", max_runtime="8h") == SessionGuard(50.0, 28800.0)
    assert SessionGuard.from_params(max_cost_usd="None", max_runtime="") == SessionGuard()
    assert SessionGuard.from_params(max_runtime=timedelta(minutes=90)).max_runtime_seconds == 5400.0


@pytest.mark.parametrize(
    ("kwargs", "parameter", "message"),
    [
        ({"max_cost_usd": 0}, "max_cost_usd", "Invalid max_cost_usd=0: the amount must be greater than 0"),
        ({"max_cost_usd": -3}, "max_cost_usd", "Invalid max_cost_usd=-3: the amount must be greater than 0"),
        (
            {"max_cost_usd": "fifty"},
            "max_cost_usd",
            "Invalid max_cost_usd='fifty': expected an amount of USD",
        ),
        ({"max_cost_usd": [50]}, "max_cost_usd", "Invalid max_cost_usd=(50): expected an amount of USD"),
        (
            {"max_runtime": "0s"},
            "max_runtime",
            "Invalid max_runtime='0s': the duration must be greater than 0",
        ),
        ({"max_runtime": "soon"}, "max_runtime", "Invalid max_runtime='soon'"),
        ({"max_runtime": False}, "max_runtime", "Invalid max_runtime=False: expected a duration"),
    ],
)
def test_bad_guards_are_refused_naming_the_parameter(kwargs, parameter, message):
    with pytest.raises(CloudOSValidationError) as error:
        SessionGuard.from_params(**kwargs)
    assert error.value.parameter == parameter
    assert message in str(error.value)


def test_direct_guard_construction_names_its_fields():
    with pytest.raises(CloudOSValidationError, match="Invalid max_runtime_seconds=-1"):
        SessionGuard(max_runtime_seconds=-1)
    with pytest.raises(CloudOSValidationError, match="Invalid max_cost_usd=inf"):
        SessionGuard(max_cost_usd=float("inf"))


def test_trigger_kwargs_hold_only_the_limits_that_are_set():
    assert SessionGuard().trigger_kwargs() == {}
    assert SessionGuard(max_cost_usd=5).trigger_kwargs() == {"max_cost_usd": 5.0}
    assert SessionGuard(5, 60).trigger_kwargs() == {"max_cost_usd": 5.0, "max_runtime_seconds": 60.0}
    assert SessionGuard(5, 3600).describe() == "cost reaches $5.00 or runtime reaches 1h"
    assert SessionGuard().describe() == "no guard"
