"""The one retry loop both transports drive: attempts, decisions, logs and errors, without a network.

The loop is a generator of steps; these tests play the transport: they answer each ``Send`` with an
:class:`Answer` or throw what the library raised into it, and check what it asks for next.
"""

from __future__ import annotations

import logging
import ssl

import pytest

from airflow_provider_cloudos.client import endpoints
from airflow_provider_cloudos.client.attempts import (
    Answer,
    Attempts,
    Send,
    Sleep,
    TransportErrors,
    run_awaited,
    run_blocking,
)
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
#: A transport whose library raises builtin exceptions.
ERRORS = TransportErrors(
    tls=(ssl.SSLError,),
    passing=(ConnectionError, TimeoutError),
    timeouts=(TimeoutError,),
    unsendable=(ValueError,),
)


def attempts(request=GET, clock=None, policy=POLICY) -> Attempts:
    return Attempts(
        request,
        policy,
        attempt_seconds=60.0,
        secrets=(KEY,),
        clock=clock or ManualClock(),
        logger=LOGGER,
    )


def answer(status: int, body: bytes = b"", retry_after: str | None = None) -> Answer:
    return Answer(status, body, retry_after)


def test_each_attempt_is_counted_and_may_take_the_whole_attempt_time():
    call = attempts()
    steps = call.steps(ERRORS)
    assert next(steps) == Send(60.0)
    assert steps.send(answer(503)) == Sleep(1.0)
    assert next(steps) == Send(60.0)
    assert call.count == 2


def test_a_2xx_answer_ends_the_call_with_its_body():
    steps = attempts().steps(ERRORS)
    next(steps)
    assert steps.send(answer(200, b"{}")) == b"{}"
    with pytest.raises(StopIteration):
        next(steps)


def test_a_retryable_answer_waits_as_the_policy_says_and_logs_it(caplog):
    steps = attempts().steps(ERRORS)
    next(steps)
    with caplog.at_level(logging.WARNING, logger=LOGGER.name):
        assert steps.send(answer(503)) == Sleep(1.0)
        next(steps)
        assert steps.send(answer(429, retry_after="7")) == Sleep(7.0)
    assert [record.getMessage() for record in caplog.records] == [
        f"CloudOS API get (GET /api/v2/interactive-sessions/{SID}) got HTTP 503; "
        "retrying in 1.00s (attempt 2 of 3)",
        f"CloudOS API get (GET /api/v2/interactive-sessions/{SID}) got HTTP 429; "
        "retrying in 7.00s (attempt 3 of 3)",
    ]


def test_the_last_attempt_raises_the_answer_as_an_error_counting_the_attempts():
    steps = attempts(policy=RetryPolicy(max_attempts=1)).steps(ERRORS)
    next(steps)
    with pytest.raises(CloudOSTransientError, match="503"):
        steps.send(answer(503, b'{"message": "busy"}'))


def test_a_refusal_is_never_retried():
    steps = attempts().steps(ERRORS)
    next(steps)
    with pytest.raises(CloudOSNotFoundError):
        steps.send(answer(404, b'{"message": "no such session"}'))


def test_a_lost_connection_is_retried_with_the_failure_named(caplog):
    steps = attempts().steps(ERRORS)
    next(steps)
    with caplog.at_level(logging.WARNING, logger=LOGGER.name):
        assert steps.throw(ConnectionResetError("reset")) == Sleep(1.0)
        next(steps)
        assert steps.throw(TimeoutError("timed out")) == Sleep(2.0)
    messages = [record.getMessage() for record in caplog.records]
    assert "got ConnectionResetError: reset; retrying in 1.00s (attempt 2 of 3)" in messages[0]
    assert "got TimeoutError: timed out; retrying in 2.00s" in messages[1]


def test_a_transport_whose_only_timeout_is_the_attempts_reports_it_as_such(caplog):
    own_timeout = TransportErrors(
        tls=(), passing=(TimeoutError,), timeouts=(TimeoutError,), unsendable=(), timeout_is_the_attempts=True
    )
    steps = attempts().steps(own_timeout)
    next(steps)
    with caplog.at_level(logging.WARNING, logger=LOGGER.name):
        assert steps.throw(TimeoutError()) == Sleep(1.0)
    assert "got no complete answer within 60s" in caplog.records[0].getMessage()


def test_a_create_is_sent_once_and_its_error_says_why():
    steps = attempts(request=CREATE).steps(ERRORS)
    next(steps)
    cause = ConnectionResetError("reset by peer")
    with pytest.raises(CloudOSTransientError, match="Not retried, because repeating it") as raised:
        steps.throw(cause)
    assert raised.value.__cause__ is cause


def test_a_create_answered_429_is_sent_again():
    steps = attempts(request=CREATE).steps(ERRORS)
    next(steps)
    assert steps.send(answer(429, retry_after="3")) == Sleep(3.0)
    assert next(steps) == Send(60.0)
    assert steps.send(answer(201, b"{}")) == b"{}"


def test_a_cause_that_would_reveal_the_key_is_not_chained():
    steps = attempts(policy=RetryPolicy(max_attempts=1)).steps(ERRORS)
    next(steps)
    with pytest.raises(CloudOSTransientError) as raised:
        steps.throw(ConnectionRefusedError(f"refused for apikey {KEY}"))
    assert raised.value.__cause__ is None
    assert KEY not in str(raised.value)


def test_an_exception_that_is_not_the_transports_goes_through_unchanged():
    steps = attempts().steps(ERRORS)
    next(steps)
    strange = KeyError("not a transport failure")
    with pytest.raises(KeyError) as raised:
        steps.throw(strange)
    assert raised.value is strange


def test_no_attempt_starts_past_the_deadline():
    clock = ManualClock()
    with call_deadline(clock() - 1, "the sensor's timeout (5s)"):
        call = attempts(clock=clock)
        steps = call.steps(ERRORS)
        with pytest.raises(CloudOSDeadlineError, match="not sent: the deadline of the sensor's timeout"):
            next(steps)
    assert call.count == 0


def test_no_retry_sleeps_past_the_deadline_and_the_error_names_the_last_failure():
    clock = ManualClock()
    with call_deadline(clock() + 5, "the trigger's end_time (5s)"):
        steps = attempts(clock=clock).steps(ERRORS)
        next(steps)
        clock.advance(2)
        with pytest.raises(CloudOSDeadlineError) as raised:
            steps.send(answer(503, retry_after="10"))
    message = str(raised.value)
    assert "stopped after 2.0s (1 attempt): the deadline of the trigger's end_time (5s)" in message
    assert message.endswith("last failure: HTTP 503")


def test_an_attempt_is_cut_to_what_the_deadline_leaves_and_then_refused_with_the_last_failure():
    clock = ManualClock()
    with call_deadline(clock() + 10, "the operator's timeout (10s)"):
        steps = attempts(clock=clock).steps(ERRORS)
        assert next(steps) == Send(10.0)
        assert steps.send(answer(502)) == Sleep(1.0)
        clock.advance(9.5)
        assert next(steps) == Send(0.5)
        clock.advance(0.5)
        with pytest.raises(CloudOSDeadlineError, match="2 attempts"):
            steps.throw(TimeoutError())


def test_the_deadline_refuses_the_next_attempt_with_the_last_failure():
    clock = ManualClock()
    with call_deadline(clock() + 10, "the operator's timeout (10s)"):
        steps = attempts(clock=clock).steps(ERRORS)
        next(steps)
        assert steps.send(answer(502)) == Sleep(1.0)
        clock.advance(10)
        with pytest.raises(CloudOSDeadlineError, match="last failure: HTTP 502"):
            next(steps)


def test_a_create_cut_by_the_deadline_ends_as_the_deadline_not_as_a_lost_connection():
    """The operator tells the two apart: only a lost create makes it look for what it created."""
    clock = ManualClock()
    with call_deadline(clock() + 10, "the operator's timeout (10s)"):
        steps = attempts(request=CREATE, clock=clock).steps(ERRORS)
        next(steps)
        clock.advance(10)
        with pytest.raises(CloudOSDeadlineError) as raised:
            steps.throw(TimeoutError())
    message = str(raised.value)
    assert "stopped after 10.0s (1 attempt): the deadline of the operator's timeout (10s)" in message
    assert "last failure" not in message


def test_a_final_lost_connection_names_what_the_transport_raised():
    steps = attempts(policy=RetryPolicy(max_attempts=1)).steps(ERRORS)
    next(steps)
    with pytest.raises(
        CloudOSTransientError, match=r"unreachable for GET .*: ConnectionResetError: reset by peer"
    ):
        steps.throw(ConnectionResetError("reset by peer"))


def test_a_failed_tls_handshake_names_the_reason_and_keeps_the_cause():
    call = attempts()
    steps = call.steps(ERRORS)
    next(steps)
    refused = ssl.SSLCertVerificationError("certificate verify failed: self-signed certificate")
    with pytest.raises(CloudOSAPIError, match=r"TLS handshake failed .*self-signed certificate") as raised:
        steps.throw(refused)
    assert raised.value.__cause__ is refused
    assert call.count == 1


def test_a_request_that_could_not_be_sent_names_the_reason_and_keeps_the_cause():
    steps = attempts().steps(ERRORS)
    next(steps)
    bad = ValueError("Invalid header value b'x\\n'")
    with pytest.raises(
        CloudOSAPIError, match="could not be sent: ValueError: Invalid header value"
    ) as raised:
        steps.throw(bad)
    assert raised.value.__cause__ is bad


# --- the runners: each transport's only loop is carrying the steps out ----------------------


class Transport:
    """Answers each attempt from a script (an answer, or an exception to raise) and records sleeps."""

    def __init__(self, *script: Answer | Exception) -> None:
        self.script = list(script)
        self.budgets: list[float] = []
        self.sleeps: list[float] = []

    def send(self, seconds: float) -> Answer:
        self.budgets.append(seconds)
        outcome = self.script.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    async def send_awaited(self, seconds: float) -> Answer:
        return self.send(seconds)

    async def sleep_awaited(self, seconds: float) -> None:
        self.sleep(seconds)


SCRIPT = (ConnectionResetError("reset"), answer(503, retry_after="4"), answer(200, b'{"ok": 1}'))


def test_the_blocking_runner_sends_sleeps_and_returns_the_body():
    transport = Transport(*SCRIPT)
    body = run_blocking(attempts().steps(ERRORS), transport.send, transport.sleep)
    assert body == b'{"ok": 1}'
    assert transport.budgets == [60.0, 60.0, 60.0]
    assert transport.sleeps == [1.0, 4.0]


@pytest.mark.asyncio
async def test_the_awaiting_runner_does_the_same_steps():
    transport = Transport(*SCRIPT)
    body = await run_awaited(attempts().steps(ERRORS), transport.send_awaited, transport.sleep_awaited)
    assert body == b'{"ok": 1}'
    assert transport.budgets == [60.0, 60.0, 60.0]
    assert transport.sleeps == [1.0, 4.0]


def test_a_runner_raises_what_the_loop_decides():
    transport = Transport(answer(503), answer(503), answer(503))
    with pytest.raises(CloudOSTransientError, match="3 attempts"):
        run_blocking(attempts().steps(ERRORS), transport.send, transport.sleep)
    assert transport.sleeps == [1.0, 2.0]
