from __future__ import annotations

from email.utils import formatdate

import pytest

from airflow_provider_cloudos.client.retry import (
    RetryPolicy,
    is_retryable_status,
    parse_retry_after,
    retry_delay,
)
from airflow_provider_cloudos.core.errors import CloudOSValidationError

NO_JITTER = RetryPolicy(jitter=0.0)
NOW = 1_800_000_000.0


def delay(policy=NO_JITTER, attempt=1, status_code=503, retry_after=None, idempotent=True, rng=lambda: 0.0):
    return retry_delay(
        policy,
        attempt,
        status_code=status_code,
        retry_after=retry_after,
        idempotent=idempotent,
        rng=rng,
        clock=lambda: NOW,
    )


def test_defaults():
    assert RetryPolicy() == RetryPolicy(
        max_attempts=5, backoff_base=1.0, backoff_max=30.0, jitter=0.5, retry_after_max=120.0
    )


@pytest.mark.parametrize("code", [None, 429, 500, 502, 503, 504])
def test_retryable_statuses(code):
    assert is_retryable_status(code)


@pytest.mark.parametrize("code", [200, 400, 401, 403, 404, 409, 501, 505])
def test_not_retryable_statuses(code):
    assert not is_retryable_status(code)
    assert delay(status_code=code) is None


def test_backoff_doubles_per_attempt():
    policy = RetryPolicy(max_attempts=10, backoff_base=0.5, jitter=0.0)
    assert [delay(policy, attempt) for attempt in range(1, 6)] == [0.5, 1.0, 2.0, 4.0, 8.0]


def test_backoff_is_capped():
    policy = RetryPolicy(max_attempts=100, backoff_base=1.0, backoff_max=30.0, jitter=0.0)
    assert delay(policy, 6) == 30.0
    assert delay(policy, 99) == 30.0


def test_jitter_takes_at_most_its_fraction_off():
    policy = RetryPolicy(backoff_base=4.0, jitter=0.5)
    assert delay(policy, 1, rng=lambda: 0.0) == 4.0
    assert delay(policy, 1, rng=lambda: 0.5) == 3.0
    assert delay(policy, 1, rng=lambda: 0.999999) == pytest.approx(2.0, abs=1e-5)
    assert delay(policy, 1, rng=lambda: 1.0) == 2.0


def test_jitter_never_exceeds_the_cap():
    policy = RetryPolicy(max_attempts=20, backoff_max=10.0, jitter=0.5)
    for share in (0.0, 0.3, 0.7, 1.0):
        value = delay(policy, 15, rng=lambda share=share: share)
        assert 5.0 <= value <= 10.0


def test_connection_errors_are_retried():
    assert delay(status_code=None) == 1.0


def test_non_idempotent_requests_are_not_retried_after_an_answer_that_may_hide_their_effect():
    for code in (None, 500, 502, 503, 504):
        assert delay(status_code=code, idempotent=False) is None
        assert delay(status_code=code, retry_after="1", idempotent=False) is None


def test_a_429_is_retried_even_for_a_create_because_the_server_did_nothing():
    assert delay(status_code=429, retry_after="2", idempotent=False) == 2.0
    assert delay(status_code=429, idempotent=False) == 1.0  # no Retry-After: the backoff
    assert delay(RetryPolicy(max_attempts=1), 1, status_code=429, idempotent=False) is None


def test_attempts_exhausted():
    policy = RetryPolicy(max_attempts=3, jitter=0.0)
    assert delay(policy, 2) is not None
    assert delay(policy, 3) is None
    assert delay(RetryPolicy(max_attempts=1), 1) is None


def test_retry_after_seconds_is_used_as_is():
    assert delay(status_code=429, retry_after="7") == 7.0
    assert delay(status_code=503, retry_after=" 0.25 ") == 0.25
    # Longer than the backoff would be, and shorter: Retry-After wins either way.
    assert delay(RetryPolicy(backoff_base=10.0, jitter=0.0), status_code=429, retry_after="2") == 2.0


def test_retry_after_is_capped():
    assert delay(RetryPolicy(retry_after_max=60.0), status_code=429, retry_after="3600") == 60.0


def test_retry_after_http_date():
    header = formatdate(NOW + 42, usegmt=True)
    assert delay(status_code=503, retry_after=header) == pytest.approx(42.0)


def test_retry_after_date_in_the_past_means_now():
    assert delay(status_code=503, retry_after=formatdate(NOW - 100, usegmt=True)) == 0.0


@pytest.mark.parametrize("header", ["soon", "", "nan", "inf", "Wed, 99 Foo 2024"])
def test_unusable_retry_after_falls_back_to_backoff(header):
    assert delay(status_code=429, retry_after=header) == 1.0


def test_parse_retry_after():
    assert parse_retry_after(None) is None
    assert parse_retry_after("-5") == 0.0
    assert parse_retry_after("120") == 120.0


def test_attempt_must_count_from_one():
    with pytest.raises(CloudOSValidationError, match="attempt=0"):
        delay(attempt=0)


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("max_attempts", 0, "at least 1 attempt is needed"),
        ("max_attempts", 2.5, "expected an integer"),
        ("max_attempts", True, "expected an integer"),
        ("backoff_base", -1, "expected a number of seconds, 0 or more"),
        ("backoff_base", True, "expected a number of seconds, 0 or more"),
        ("backoff_max", "1", "expected a number of seconds, 0 or more"),
        ("retry_after_max", -0.1, "expected a number of seconds, 0 or more"),
        ("jitter", 1.5, "expected a fraction between 0 and 1"),
        ("jitter", -0.1, "expected a fraction between 0 and 1"),
        ("jitter", True, "expected a fraction between 0 and 1"),
        ("jitter", "0.5", "expected a fraction between 0 and 1"),
    ],
)
def test_policy_refuses_bad_values(field, value, problem):
    with pytest.raises(CloudOSValidationError) as excinfo:
        RetryPolicy(**{field: value})
    assert str(excinfo.value) == f"Invalid {field}={value!r}: {problem}"


def test_policy_accepts_the_edges_of_each_range():
    edges = RetryPolicy(max_attempts=1, backoff_base=0, backoff_max=0, retry_after_max=0, jitter=1)
    assert (edges.backoff_base, edges.backoff_max, edges.retry_after_max, edges.jitter) == (0, 0, 0, 1)
    assert RetryPolicy(jitter=0).jitter == 0


@pytest.mark.parametrize("attempt", [0, -1, True, 1.0])
def test_attempt_must_be_a_whole_number_from_one(attempt):
    with pytest.raises(CloudOSValidationError) as excinfo:
        delay(attempt=attempt)
    assert str(excinfo.value) == f"Invalid attempt={attempt!r}: attempts are counted from 1"


def test_retry_after_date_without_a_zone_is_read_as_gmt_whatever_the_machines_zone(monkeypatch):
    import time

    header = formatdate(NOW + 42, usegmt=True).removesuffix(" GMT")
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        waited = parse_retry_after(header, clock=lambda: NOW)
    finally:
        monkeypatch.undo()
        time.tzset()
    assert waited == pytest.approx(42.0)


def test_backoff_exponent_is_bounded_for_huge_attempt_numbers():
    unbounded = RetryPolicy(max_attempts=10_000, backoff_max=float("inf"), jitter=0.0)
    assert delay(unbounded, attempt=5_000) == 2.0**62


def test_a_random_share_outside_0_1_is_clamped():
    policy = RetryPolicy(jitter=0.5)
    assert delay(policy, attempt=1, rng=lambda: 7.0) == 0.5, "at most the jitter fraction is taken off"
    assert delay(policy, attempt=1, rng=lambda: -3.0) == 1.0, "never more than the backoff"
