"""The one retry loop both transports drive: attempts, decisions, logs and errors, without a network."""

from __future__ import annotations

import logging
import ssl

import pytest

from airflow_provider_cloudos.client import endpoints
from airflow_provider_cloudos.client._shared import AttemptTimeout
from airflow_provider_cloudos.client.attempts import Attempts
from airflow_provider_cloudos.client.deadline import call_deadline
from airflow_provider_cloudos.client.retry import RetryPolicy
from airflow_provider_cloudos.core.errors import (
    CloudOSAPIError,
    CloudOSDeadlineError,
    CloudOSNotFoundError,
    CloudOSTransientError,
)
from airflow_provider_cloudos.testing import ManualClock

WS = "a" * 24
SID = "b" * 24
KEY = "KEY-never-shown"
GET = endpoints.get_session(WS, SID)
CREATE = endpoints.create_session(WS, {"interactiveSessionConfiguration": {"name": "x"}})
POLICY = RetryPolicy(max_attempts=3, backoff_base=1.0, jitter=0.0)
LOGGER = logging.getLogger("tests.client.attempts")


def attempts(request=GET, clock=None, policy=POLICY) -> Attempts:
    return Attempts(
        request,
        policy,
        attempt_seconds=60.0,
        secrets=(KEY,),
        clock=clock or ManualClock(),
        logger=LOGGER,
    )


def test_each_start_counts_an_attempt_with_the_whole_attempt_time():
    call = attempts()
    assert call.start() == 60.0
    assert call.start() == 60.0
    assert call.count == 2


def test_a_2xx_answer_ends_the_call():
    call = attempts()
    call.start()
    assert call.answered(200, b"{}", None) is None


def test_a_retryable_answer_waits_as_the_policy_says_and_logs_it(caplog):
    call = attempts()
    call.start()
    with caplog.at_level(logging.WARNING, logger=LOGGER.name):
        assert call.answered(503, b"", None) == 1.0
        call.start()
        assert call.answered(429, b"", "7") == 7.0
    assert [record.getMessage() for record in caplog.records] == [
        f"CloudOS API get (GET /api/v2/interactive-sessions/{SID}) got HTTP 503; "
        "retrying in 1.00s (attempt 2 of 3)",
        f"CloudOS API get (GET /api/v2/interactive-sessions/{SID}) got HTTP 429; "
        "retrying in 7.00s (attempt 3 of 3)",
    ]


def test_the_last_attempt_raises_the_answer_as_an_error_counting_the_attempts():
    call = attempts(policy=RetryPolicy(max_attempts=1))
    call.start()
    with pytest.raises(CloudOSTransientError, match="503"):
        call.answered(503, b'{"message": "busy"}', None)


def test_a_refusal_is_never_retried():
    call = attempts()
    call.start()
    with pytest.raises(CloudOSNotFoundError):
        call.answered(404, b'{"message": "no such session"}', None)


def test_a_lost_connection_is_retried_with_the_failure_named(caplog):
    call = attempts()
    call.start()
    with caplog.at_level(logging.WARNING, logger=LOGGER.name):
        reset = ConnectionResetError("reset")
        assert call.failed(reset, cause=reset, timed_out=False) == 1.0
        call.start()
        assert call.failed(AttemptTimeout(60.0), cause=TimeoutError(), timed_out=True) == 2.0
    messages = [record.getMessage() for record in caplog.records]
    assert "got ConnectionResetError: reset; retrying in 1.00s (attempt 2 of 3)" in messages[0]
    assert "got no complete answer within 60s" in messages[1]


def test_a_create_is_sent_once_and_its_error_says_why():
    call = attempts(request=CREATE)
    call.start()
    cause = ConnectionResetError("reset by peer")
    with pytest.raises(CloudOSTransientError, match="Not retried, because repeating it") as raised:
        call.failed(cause, cause=cause, timed_out=False)
    assert raised.value.__cause__ is cause
    assert call.answered(201, b"{}", None) is None


def test_a_cause_that_would_reveal_the_key_is_not_chained():
    call = attempts(policy=RetryPolicy(max_attempts=1))
    call.start()
    leaky = OSError(f"refused for apikey {KEY}")
    with pytest.raises(CloudOSTransientError) as raised:
        call.failed(leaky, cause=leaky, timed_out=False)
    assert raised.value.__cause__ is None
    assert KEY not in str(raised.value)


def test_no_attempt_starts_past_the_deadline():
    clock = ManualClock()
    with call_deadline(clock() - 1, "the sensor's timeout (5s)"):
        call = attempts(clock=clock)
        with pytest.raises(CloudOSDeadlineError, match="not sent: the deadline of the sensor's timeout"):
            call.start()
    assert call.count == 0


def test_no_retry_sleeps_past_the_deadline_and_the_error_names_the_last_failure():
    clock = ManualClock()
    with call_deadline(clock() + 5, "the trigger's end_time (5s)"):
        call = attempts(clock=clock)
        call.start()
        clock.advance(2)
        with pytest.raises(CloudOSDeadlineError) as raised:
            call.answered(503, b"", "10")
    message = str(raised.value)
    assert "stopped after 2.0s (1 attempt): the deadline of the trigger's end_time (5s)" in message
    assert message.endswith("last failure: HTTP 503")


def test_an_attempt_is_cut_to_what_the_deadline_leaves_and_then_refused_with_the_last_failure():
    clock = ManualClock()
    with call_deadline(clock() + 10, "the operator's timeout (10s)"):
        call = attempts(clock=clock)
        assert call.start() == 10.0
        assert call.answered(502, b"", None) == 1.0
        clock.advance(9.5)
        assert call.start() == 0.5
        clock.advance(0.5)
        with pytest.raises(CloudOSDeadlineError, match="2 attempts"):
            call.failed(AttemptTimeout(0.5), cause=TimeoutError(), timed_out=True)
        with pytest.raises(CloudOSDeadlineError, match="last failure: HTTP 502"):
            call.start()


def test_a_create_cut_by_the_deadline_ends_as_the_deadline_not_as_a_lost_connection():
    """The operator tells the two apart: only a lost create makes it look for what it created."""
    clock = ManualClock()
    with call_deadline(clock() + 10, "the operator's timeout (10s)"):
        call = attempts(request=CREATE, clock=clock)
        call.start()
        clock.advance(10)
        with pytest.raises(CloudOSDeadlineError) as raised:
            call.failed(AttemptTimeout(10.0), cause=TimeoutError(), timed_out=True)
    message = str(raised.value)
    assert "stopped after 10.0s (1 attempt): the deadline of the operator's timeout (10s)" in message
    assert "last failure" not in message


def test_a_final_lost_connection_names_what_the_transport_raised():
    call = attempts(policy=RetryPolicy(max_attempts=1))
    call.start()
    reset = ConnectionResetError("reset by peer")
    with pytest.raises(
        CloudOSTransientError, match=r"unreachable for GET .*: ConnectionResetError: reset by peer"
    ):
        call.failed(reset, cause=reset, timed_out=False)


def test_a_failed_tls_handshake_names_the_reason_and_keeps_the_cause():
    call = attempts()
    call.start()
    refused = ssl.SSLCertVerificationError("certificate verify failed: self-signed certificate")
    with pytest.raises(CloudOSAPIError, match=r"TLS handshake failed .*self-signed certificate") as raised:
        call.tls_failed(refused)
    assert raised.value.__cause__ is refused
    assert call.count == 1


def test_a_request_that_could_not_be_sent_names_the_reason_and_keeps_the_cause():
    call = attempts()
    call.start()
    bad = ValueError("Invalid header value b'x\\n'")
    with pytest.raises(
        CloudOSAPIError, match="could not be sent: ValueError: Invalid header value"
    ) as raised:
        call.not_sent(bad)
    assert raised.value.__cause__ is bad
