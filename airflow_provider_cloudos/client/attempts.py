"""The attempts of one call, for both transports: the one retry loop of the client.

Each transport only knows how to send a request and how to sleep (blocking or awaited); what
comes between, whether another attempt may start, whether a failure or an answer is worth one
more, how long to wait, what to log and what to raise, is decided here once, so the blocking and
the async client cannot drift apart. The loop is :meth:`Attempts.steps`, a generator that does no
I/O: it says what to do next (send with so many seconds, sleep so long, or done with this body)
and is told how the send went. :func:`run_blocking` and :func:`run_awaited` carry its steps out,
the one with blocking calls, the other awaiting them; a transport gives them its own send and
sleep and names which of its exceptions mean what (:class:`TransportErrors`).

The decision itself (idempotency, ``Retry-After``, backoff with jitter) is
:func:`~airflow_provider_cloudos.client.retry.retry_delay`; the task's deadline
(:mod:`~airflow_provider_cloudos.client.deadline`) bounds every attempt and every sleep.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass

from airflow_provider_cloudos.client._shared import AttemptTimeout, safe_cause
from airflow_provider_cloudos.client.deadline import (
    attempt_budget,
    current_deadline,
    deadline_passed,
    sleep_fits,
)
from airflow_provider_cloudos.client.endpoints import ApiRequest
from airflow_provider_cloudos.client.responses import (
    connection_error,
    deadline_error,
    raise_for_status,
    redact,
    request_error,
    tls_error,
)
from airflow_provider_cloudos.client.retry import RetryPolicy, is_retryable_status, retry_delay
from airflow_provider_cloudos.client.unreachable import explain_no_answer
from airflow_provider_cloudos.core.errors import CloudOSDeadlineError


@dataclass(frozen=True)
class Answer:
    """A complete HTTP answer, as an attempt hands it to the loop."""

    status: int
    body: bytes
    retry_after: str | None


@dataclass(frozen=True)
class Send:
    """Send the request now; the attempt may take ``seconds`` in all."""

    seconds: float


@dataclass(frozen=True)
class Sleep:
    """Wait ``seconds`` before the next attempt."""

    seconds: float


#: What the loop asks for next (its last step is the body of the 2xx answer that ends the call),
#: and what it is told after a :class:`Send`: the answer, or the failure thrown into it.
Steps = Generator[Send | Sleep | bytes, Answer, None]

_Errors = tuple[type[BaseException], ...]


@dataclass(frozen=True)
class TransportErrors:
    """What a transport's exceptions mean to the loop; any other exception is not the loop's.

    ``tls``: a failed handshake (never retried, a certificate does not change). ``passing``: no
    (complete) answer, which another attempt may cure; of those, ``timeouts`` ran out of time.
    ``unsendable``: the library could not even send the request. With ``timeout_is_the_attempts``
    every timeout is reported as the attempt's own (the library's only timeout is the attempt's).
    """

    tls: _Errors
    passing: _Errors
    timeouts: _Errors
    unsendable: _Errors
    timeout_is_the_attempts: bool = False


class Attempts:
    """Where one call stands: how many attempts it made, what failed last, the deadline it serves.

    The deadline is read once, when the call starts, from the scope the caller opened.
    """

    def __init__(
        self,
        request: ApiRequest,
        policy: RetryPolicy,
        *,
        attempt_seconds: float,
        secrets: tuple[str, ...],
        clock: Callable[[], float],
        logger: logging.Logger,
        base_url: str | None = None,
    ) -> None:
        self.request = request
        self._base_url = base_url
        self.policy = policy
        self.count = 0
        self._attempt_seconds = attempt_seconds
        self._secrets = secrets
        self._clock = clock
        self._logger = logger
        self._deadline = current_deadline()
        self._started = clock()
        self._last_failure: str | None = None

    def steps(self, errors: TransportErrors) -> Steps:
        """The loop: attempts and the waits between them, until a 2xx answer or an error."""
        delay: float | None
        while True:
            budget = attempt_budget(self._attempt_seconds, self._deadline, self._clock())
            if budget is None:
                raise self._out_of_time(self._last_failure)
            self.count += 1
            try:
                answer = yield Send(budget)
            except errors.tls as exc:  # no retry fixes a certificate
                raise tls_error(self.request, exc, secrets=self._secrets) from safe_cause(exc, self._secrets)
            except errors.passing as exc:
                delay = self._failed(exc, budget, errors)
            except errors.unsendable as exc:
                # A bad URL or header: the library could not even send the request.
                raise request_error(self.request, exc, secrets=self._secrets) from safe_cause(
                    exc, self._secrets
                )
            else:
                delay = self._answered(answer)
                if delay is None:
                    yield answer.body
                    return
            yield Sleep(delay)

    def _failed(self, exc: BaseException, budget: float, errors: TransportErrors) -> float:
        """Seconds to wait after an attempt that got no (complete) answer; raise when it is final.

        The message reports an attempt that used its time as an :class:`AttemptTimeout`, else what
        the transport raised, which is chained only when it reveals no secret.
        """
        timed_out = isinstance(exc, errors.timeouts)
        if timed_out and deadline_passed(self._deadline, self._clock()):
            # Cut by the deadline: what it says is the deadline; an earlier attempt's failure, if
            # any, is still the last thing CloudOS (or the network) said.
            raise self._out_of_time(self._last_failure) from None
        error = AttemptTimeout(budget) if timed_out and errors.timeout_is_the_attempts else exc
        delay = self._delay(None, None)
        if delay is None:
            raise connection_error(
                self.request, error, attempts=self.count, secrets=self._secrets, base_url=self._base_url
            ) from self._cause(exc)
        if isinstance(error, AttemptTimeout):
            return self._before_retry(str(error), delay)
        # The transport's text may quote a header or a proxy URL: it is redacted like any message.
        return self._before_retry(
            redact(explain_no_answer(error, self._base_url).reason, self._secrets), delay
        )

    def _cause(self, cause: BaseException) -> BaseException | None:
        """What to chain under a final "unreachable" error: nothing when the message already says
        what to check (the library's chain would repeat its pool dump and the URL's query in the
        traceback), else what the transport raised, unless it reveals a secret."""
        if explain_no_answer(cause, self._base_url).advice is not None:
            return None
        return safe_cause(cause, self._secrets)

    def _answered(self, answer: Answer) -> float | None:
        """Seconds to wait after an answer worth another attempt; None for a 2xx; raise otherwise."""
        if is_retryable_status(answer.status):
            delay = self._delay(answer.status, answer.retry_after)
            if delay is not None:
                return self._before_retry(f"HTTP {answer.status}", delay)
        raise_for_status(answer.status, answer.body, self.request, attempts=self.count, secrets=self._secrets)
        return None

    def _delay(self, status: int | None, retry_after: str | None) -> float | None:
        idempotent = self.request.idempotent
        return retry_delay(
            self.policy, self.count, status_code=status, retry_after=retry_after, idempotent=idempotent
        )

    def _before_retry(self, failure: str, delay: float) -> float:
        """``delay``, once it is known to fit before the deadline and the retry is logged."""
        if not sleep_fits(delay, self._deadline, self._clock()):
            raise self._out_of_time(failure) from None
        self._logger.warning(
            "CloudOS API %s (%s) got %s; retrying in %.2fs (attempt %d of %d)",
            self.request.name,
            self.request.describe(),
            failure,
            delay,
            self.count + 1,
            self.policy.max_attempts,
        )
        self._last_failure = failure
        return delay

    def _out_of_time(self, failure: str | None) -> CloudOSDeadlineError:
        assert self._deadline is not None
        return deadline_error(
            self.request,
            self._deadline,
            attempts=self.count,
            elapsed=self._clock() - self._started,
            last_failure=failure,
            secrets=self._secrets,
        )


def run_blocking(steps: Steps, send: Callable[[float], Answer], sleep: Callable[[float], object]) -> bytes:
    """Carry out ``steps`` with blocking calls: the blocking client's retry loop."""
    step = next(steps)
    while not isinstance(step, bytes):
        if isinstance(step, Sleep):
            sleep(step.seconds)
            step = next(steps)
            continue
        try:
            answer = send(step.seconds)
        except Exception as exc:  # the loop decides what it means, or raises it again
            step = steps.throw(exc)
        else:
            step = steps.send(answer)
    return step


async def run_awaited(
    steps: Steps, send: Callable[[float], Awaitable[Answer]], sleep: Callable[[float], Awaitable[object]]
) -> bytes:
    """Carry out ``steps`` awaiting each call: the async client's retry loop."""
    step = next(steps)
    while not isinstance(step, bytes):
        if isinstance(step, Sleep):
            await sleep(step.seconds)
            step = next(steps)
            continue
        try:
            answer = await send(step.seconds)
        except Exception as exc:  # the loop decides what it means, or raises it again
            step = steps.throw(exc)
        else:
            step = steps.send(answer)
    return step


__all__ = ["Answer", "Attempts", "Send", "Sleep", "Steps", "TransportErrors", "run_awaited", "run_blocking"]
